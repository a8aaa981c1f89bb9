-- glean.urls — the parts of a URL the crawl and glean.session pick out
-- with patterns (the URL is already absolute and canonical): its origin,
-- host, path, and the target robots.txt rules are matched against.
local urls = {}

function urls.origin_of(url)
  return url:match("^(%a[%w+.-]*://[^/?#]+)")
end

function urls.host_of(url)
  return url:match("^%a[%w+.-]*://([^/?#:]+)")
end

-- The path alone: rules match paths, so a link that carries a query (say
-- tracking parameters) still finds its rule.
function urls.path_of(url)
  return url:match("^%a[%w+.-]*://[^/?#]*(/[^?#]*)") or "/"
end

-- The path and query, as robots.txt rules are matched.
function urls.target_of(url)
  return url:match("^%a[%w+.-]*://[^/?#]*(/[^#]*)") or "/"
end

return urls
