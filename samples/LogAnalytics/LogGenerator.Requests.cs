using System.Text;

namespace LogAnalytics;

/// <summary>The well-formed requests of the generated log.</summary>
public static partial class LogGenerator
{
    /// <summary>Paths by popularity, most popular first; picked with Zipf weights 1/k^1.1. <c>{n}</c> is a number, <c>{guid}</c> a
    /// GUID, <c>{hash}</c> a hex hash, <c>{slug}</c> a word.</summary>
    private static readonly string[] s_paths =
    [
        "/", "/api/products/{n}", "/static/js/app.{hash}.js", "/api/orders/{n}", "/static/css/site.{hash}.css", "/images/products/{n}.jpg",
        "/api/cart", "/products/{slug}", "/api/search", "/favicon.ico", "/api/users/{n}/orders", "/login", "/api/orders/{guid}/items",
        "/blog/{slug}", "/robots.txt", "/api/recommendations", "/checkout", "/health", "/api/orders", "/sitemap.xml", "/about",
        "/api/users/{n}", "/static/fonts/inter.{hash}.woff2", "/account/settings", "/api/reviews/{n}", "/wp-login.php", "/.env",
    ];

    private static readonly string[] s_slugs = ["spring-sale", "running-shoes", "winter-jackets", "how-we-ship", "gift-ideas", "new-arrivals", "size-guide"];

    private static readonly string[] s_queries = ["?page=2", "?page=3", "?q=shoes&sort=price", "?q=jacket", "?utm_source=newsletter&utm_medium=email", "?ref=home", "?limit=50&offset=100"];

    private static readonly string[] s_browsers =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ];

    private static readonly string[] s_bots =
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Go-http-client/1.1",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    ];

    private static readonly string[] s_referers =
    [
        "https://shop.example.com/", "https://shop.example.com/products/running-shoes", "https://www.google.com/", "https://www.bing.com/",
        "https://shop.example.com/checkout", "https://news.ycombinator.com/",
    ];

    private static readonly double[] s_pathWeights = CumulativeZipf(s_paths.Length, 1.1);

    private static readonly double[] s_clientWeights = CumulativeZipf(5_000, 0.9);

    private static Shape AppendRequest(StringBuilder line, ref SplitMix random, DateTimeOffset time, LogGeneratorOptions options)
    {
        var ipv6 = random.NextDouble() < options.Ipv6Share;
        var client = Pick(s_clientWeights, ref random);
        if (ipv6)
        {
            line.Append("2001:db8:").Append((client >> 8).ToString("x")).Append("::").Append((client & 0xff).ToString("x"));
        }
        else
        {
            line.Append(10 + (client % 200)).Append('.').Append((client * 7) % 256).Append('.').Append((client * 13) % 256).Append('.').Append(client % 251);
        }

        var user = random.NextDouble() < 0.02 ? "alice" : "-";
        line.Append(" - ").Append(user).Append(" [");
        AppendTime(line, time);
        line.Append("] \"");

        var path = s_paths[Pick(s_pathWeights, ref random)];
        var method = MethodFor(path, ref random);
        line.Append(method).Append(' ');
        AppendPath(line, path, ref random);
        if (random.NextDouble() < 0.2)
        {
            line.Append(s_queries[random.Next(s_queries.Length)]);
        }

        line.Append(random.NextDouble() < 0.3 ? " HTTP/2.0\" " : " HTTP/1.1\" ");
        var status = StatusFor(path, ref random);
        line.Append(status).Append(' ');
        var dashBytes = method == "HEAD" || status is 204 or 304 || random.NextDouble() < 0.005;
        if (dashBytes)
        {
            line.Append('-');
        }
        else
        {
            var u = random.NextDouble();
            line.Append(status >= 300 ? 150 + random.Next(400) : 200 + (long)(u * u * u * 600_000));
        }

        var common = random.NextDouble() < options.CommonShare;
        var escapedQuote = false;
        if (!common)
        {
            line.Append(" \"").Append(random.NextDouble() < 0.5 ? "-" : s_referers[random.Next(s_referers.Length)]).Append("\" \"");
            var bot = random.NextDouble() < 0.15 || path is "/robots.txt" or "/sitemap.xml" or "/wp-login.php" or "/.env";
            escapedQuote = random.NextDouble() < 0.001;
            if (escapedQuote)
            {
                line.Append("Mozilla/5.0 (compatible; \\\"Quoted\\\" Agent/1.0)");
            }
            else if (random.NextDouble() < 0.003)
            {
                line.Append('-');
            }
            else
            {
                line.Append(bot ? s_bots[random.Next(s_bots.Length)] : s_browsers[random.Next(s_browsers.Length)]);
            }

            line.Append('"');
        }

        return new Shape(common, ipv6, dashBytes, escapedQuote);
    }

    private static void AppendPath(StringBuilder line, string path, ref SplitMix random)
    {
        var span = path.AsSpan();
        while (span.IndexOf('{') is var open and >= 0)
        {
            line.Append(span[..open]);
            var close = span.IndexOf('}');
            switch (span[(open + 1)..close])
            {
                case "n":
                    // Ids are skewed too: a few hot products and orders.
                    var u = random.NextDouble();
                    line.Append(1 + (long)(u * u * 99_999));
                    break;
                case "guid":
                    line.Append(new Guid((int)random.NextUInt64(), (short)random.NextUInt64(), (short)random.NextUInt64(), (byte)random.NextUInt64(),
                        (byte)random.NextUInt64(), (byte)random.NextUInt64(), (byte)random.NextUInt64(), (byte)random.NextUInt64(), (byte)random.NextUInt64(),
                        (byte)random.NextUInt64(), (byte)random.NextUInt64()).ToString("D"));
                    break;
                case "hash":
                    // One build's worth of hashes, with a digit so it reads as a hash and not a word.
                    line.Append("3f9a2c").Append(random.Next(4)).Append('d');
                    break;
                default:
                    line.Append(s_slugs[random.Next(s_slugs.Length)]);
                    break;
            }

            span = span[(close + 1)..];
        }

        line.Append(span);
    }

    private static string MethodFor(string path, ref SplitMix random)
    {
        var u = random.NextDouble();
        if (path.StartsWith("/api/", StringComparison.Ordinal) || path is "/login" or "/checkout")
        {
            return u < 0.75 ? "GET" : u < 0.93 ? "POST" : u < 0.97 ? "PUT" : u < 0.99 ? "DELETE" : "OPTIONS";
        }

        return u < 0.98 ? "GET" : "HEAD";
    }

    private static int StatusFor(string path, ref SplitMix random)
    {
        if (path is "/wp-login.php" or "/.env")
        {
            return 404;
        }

        var u = random.NextDouble();
        return u switch
        {
            < 0.80 => 200,
            < 0.81 => 201,
            < 0.815 => 204,
            < 0.865 => 304,
            < 0.885 => 301,
            < 0.895 => 302,
            < 0.955 => 404,
            < 0.965 => 400,
            < 0.975 => 401,
            < 0.985 => 403,
            < 0.993 => 500,
            < 0.997 => 502,
            _ => 503,
        };
    }

    private static double[] CumulativeZipf(int count, double exponent)
    {
        var cumulative = new double[count];
        var sum = 0.0;
        for (var k = 0; k < count; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            cumulative[k] = sum;
        }

        for (var k = 0; k < count; k++)
        {
            cumulative[k] /= sum;
        }

        return cumulative;
    }

    private static int Pick(double[] cumulative, ref SplitMix random)
    {
        var index = Array.BinarySearch(cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, cumulative.Length - 1);
    }

    private readonly record struct Shape(bool Common, bool Ipv6, bool DashBytes, bool EscapedQuote);
}
