using System.ComponentModel.DataAnnotations;
using EdgeLam.Gateway.Api;
using EdgeLam.Gateway.Tests.Rounds;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Tests.Api;

public sealed class ApiOptionsTests
{
    private static List<ValidationResult> Validate(ApiOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [Fact]
    public void An_enabled_api_needs_a_long_enough_token_and_http_urls()
    {
        Assert.Empty(Validate(new ApiOptions { Enabled = false, Token = null }));
        Assert.Contains(Validate(new ApiOptions { Enabled = true, Token = "short" }), r => r.ErrorMessage!.Contains("Api:Token", StringComparison.Ordinal));
        Assert.Contains(Validate(new ApiOptions { Enabled = true, Token = new string('t', 32), Urls = "ftp://127.0.0.1:21" }),
            r => r.ErrorMessage!.Contains("ftp://127.0.0.1:21", StringComparison.Ordinal));
        Assert.Empty(Validate(new ApiOptions { Enabled = true, Token = new string('t', 32), Urls = "http://127.0.0.1:0;http://[::1]:0" }));
    }

    [Fact]
    public async Task Gateway_refuses_to_start_an_api_without_a_token()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayHarness.StartAsync([], new Dictionary<string, string?> { ["Api:Enabled"] = "true", ["Api:Urls"] = "http://127.0.0.1:0", ["Api:Token"] = "" }));
        Assert.Contains("Api:Token", error.Message, StringComparison.Ordinal);
    }
}
