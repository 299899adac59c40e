# A training command for the tests: echoes what it received, reports epochs, and fails, or waits for SIGINT, on request.
import json, os, signal, sys, time

params = json.loads(os.environ["HYPERTUNE_PARAMS"])
print("argv " + json.dumps(sys.argv[1:]))
print("env " + json.dumps({k: os.environ.get(k) for k in ["HYPERTUNE_TRIAL_ID", "HYPERTUNE_ATTEMPT", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "EXTRA"]}))
print("{this is not json")
print(json.dumps({"loss": 1.5}))
print("a line on stderr", file=sys.stderr)


def on_sigint(signum, frame):
    print("got SIGINT, saving and exiting", flush=True)
    sys.exit(3)


signal.signal(signal.SIGINT, on_sigint)
for epoch in range(1, int(params.get("epochs", 2)) + 1):
    print(json.dumps({"epoch": epoch, "val_loss": 1.0 / epoch, "lr": params["lr"], "note": "text"}))
mode = params.get("mode", "ok")
if mode == "fail":
    print("CUDA out of memory (pretend)", file=sys.stderr)
    sys.exit(7)
if mode == "hang":
    print("waiting for a stop", flush=True)
    while True:
        time.sleep(0.05)
