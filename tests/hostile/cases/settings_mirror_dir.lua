-- attack: settings.mirrors serves a directory outside the folder to the crawl's glean.fetch
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local resp, err = glean.fetch("http://leak.test/secret.txt")
  H.leak("secret", resp and resp.body or err)
end, {settings = {mirrors = {"http://leak.test=" .. H.run_dir}}})
