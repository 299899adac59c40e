import argparse, json, math
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.01)
p.add_argument("--epochs", type=int, default=3)
args, _ = p.parse_known_args()  # HyperTune passes every parameter as --name value
for epoch in range(1, args.epochs + 1):
    val_loss = (math.log10(args.lr) + 2) ** 2 + 1 / epoch  # your training goes here
    print(f"training epoch {epoch}")  # plain lines go to the trial's log
    print(json.dumps({"epoch": epoch, "val_loss": val_loss}))  # a JSON line is an epoch report
