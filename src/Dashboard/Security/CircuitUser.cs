using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace HyperTune.Dashboard.Security;

/// <summary>Makes every event of a Blazor circuit (a click, a form) act as the circuit's signed-in user, for <see cref="UserAccess"/>.</summary>
public sealed class CircuitUser(AuthenticationStateProvider authentication) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            var state = await authentication.GetAuthenticationStateAsync();
            using (UserAccess.ActAs(state.User))
            {
                await next(context);
            }
        };
}
