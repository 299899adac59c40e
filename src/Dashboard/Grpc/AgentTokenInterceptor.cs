using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using HyperTune.Dashboard.Extensions;

namespace HyperTune.Dashboard.Grpc;

/// <summary>Refuses every gRPC call whose bearer token is not the agent token, before any handler runs.</summary>
public sealed class AgentTokenInterceptor(AgentToken token, ILogger<AgentTokenInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        const string prefix = "Bearer ";
        var presented = header is not null && header.StartsWith(prefix, StringComparison.Ordinal) ? header[prefix.Length..].Trim() : null;
        if (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(token.Value)))
        {
            logger.LogWarning("Refused {Method} from {Peer}: {Problem}", context.Method, context.Peer,
                presented is null ? "no bearer token" : "wrong bearer token");
            throw new RpcException(new Status(StatusCode.Unauthenticated, presented is null
                ? "missing bearer token: send 'authorization: Bearer <agent token>'"
                : "the agent token is not valid for this dashboard"));
        }
    }
}
