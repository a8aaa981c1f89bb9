-- attack: the adapter's main chunk reads the host's stdin and the secret, and says what it read
-- expect: load
local H = require "hostile"
local got = {}
pcall(function() got[#got + 1] = io.lines()() end)
pcall(function() got[#got + 1] = io.open(H.secret):read("a") end)
if #got > 0 then H.leak("at load", table.concat(got, " ")) end
return H.adapter(nil)
