-- attack: memory kept between pages in the adapter's upvalues: each page takes 20 MB more
-- args: --memory-limit 32
-- fail: 3 4 5
local H = require "hostile"
local keep = {}
local function hoard() keep[#keep + 1] = ("x"):rep(20 << 20) .. #keep end
return H.adapter({[3] = hoard, [4] = hoard, [5] = hoard})
