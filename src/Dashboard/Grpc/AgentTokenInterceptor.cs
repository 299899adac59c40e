using Grpc.Core;
using Grpc.Core.Interceptors;
using HyperTune.Dashboard.Agents;

namespace HyperTune.Dashboard.Grpc;

/// <summary>
/// Refuses every gRPC call without a valid agent token (per-agent or shared) before any handler runs, and leaves the
/// <see cref="AgentCaller"/> in the call's user state. A call made with a token that is revoked while it runs is aborted;
/// the agent stream is the exception: the hub ends it itself, with a status that says why.
/// </summary>
public sealed class AgentTokenInterceptor(AgentTokens tokens, ILogger<AgentTokenInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var revoked = await AuthorizeAsync(context, abortOnRevoke: true);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var revoked = await AuthorizeAsync(context, abortOnRevoke: true);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var revoked = await AuthorizeAsync(context, abortOnRevoke: true);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var revoked = await AuthorizeAsync(context, abortOnRevoke: false);
        await continuation(requestStream, responseStream, context);
    }

    private async Task<CancellationTokenRegistration> AuthorizeAsync(ServerCallContext context, bool abortOnRevoke)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        const string prefix = "Bearer ";
        var presented = header is not null && header.StartsWith(prefix, StringComparison.Ordinal) ? header[prefix.Length..].Trim() : null;
        var (caller, refusal) = await tokens.AuthenticateAsync(presented, context.CancellationToken);
        if (caller is null)
        {
            logger.LogWarning("Refused {Method} from {Peer}: {Problem}", context.Method, context.Peer, refusal);
            throw new RpcException(new Status(StatusCode.Unauthenticated, refusal!));
        }

        context.UserState[AgentCaller.Key] = caller;
        if (!abortOnRevoke)
        {
            return default;
        }

        var http = context.GetHttpContext();
        return caller.Revoked.Register(http.Abort);
    }
}
