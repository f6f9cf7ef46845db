namespace LogAnalytics.Tests;

public sealed class RouteTemplateTests
{
    [Theory]
    [InlineData("/api/orders/123", "/api/orders/{id}")]
    [InlineData("/api/orders/123?expand=items", "/api/orders/{id}")]
    [InlineData("/api/users/42/orders/7", "/api/users/{id}/orders/{id}")]
    [InlineData("/api/orders/0f8fad5b-d9cb-469f-a165-70867728950e/items", "/api/orders/{id}/items")]
    [InlineData("/static/js/app.3f9a2c1d.js", "/static/js/app.{hash}.js")]
    [InlineData("/commits/9fceb02d0ae598e95dc970b74767f19372d61af8", "/commits/{hash}")]
    [InlineData("/images/products/981.jpg", "/images/products/{id}.jpg")]
    [InlineData("/blog/spring-sale", "/blog/spring-sale")]
    [InlineData("/static/css/deadbeef.css", "/static/css/deadbeef.css")]
    [InlineData("/v2/items", "/v2/items")]
    [InlineData("/", "/")]
    [InlineData("/search?q=123", "/search")]
    [InlineData("/page#section-2", "/page")]
    public void Of_Path_CollapsesIdsAndHashesAndDropsTheQuery(string target, string route) => Assert.Equal(route, RouteTemplate.Of(target));

    [Fact]
    public void Of_PathWithNothingToChange_ReturnsTheSameString()
    {
        var target = "/about/team";

        Assert.Same(target, RouteTemplate.Of(target));
    }
}
