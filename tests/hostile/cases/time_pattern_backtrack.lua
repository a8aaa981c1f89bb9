-- attack: a pattern that backtracks for ever (string.find, :match, gsub)
local H = require "hostile"
return H.adapter(function(page)
  local s = ("a"):rep(5000)
  local pat = ("a*"):rep(30) .. "b"
  string.find(s, pat)
  s:match(pat)
  s:gsub(pat, "")
end)
