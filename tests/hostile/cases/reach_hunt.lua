-- attack: search everything reachable (globals, glean, string metatable, page and its fields, userdata __index,
-- engines) for execute, popen, exit, remove, rename, tmpname, output, loadlib, getregistry, sethook; use what is found
local glean = require "glean"
local H = require "hostile"
local WANT = {execute = true, popen = true, exit = true, remove = true, rename = true, tmpname = true,
  output = true, loadlib = true, getregistry = true, sethook = true, setupvalue = true, upvalueid = true}
return H.adapter(function(page)
  local seen, queue, found = {}, {}, {}
  local function push(v, path)
    local t = type(v)
    if (t == "table" or t == "userdata" or t == "function") and not seen[v] then
      seen[v] = true
      queue[#queue + 1] = {v, path}
    end
  end
  push(_G, "_G"); push(_ENV, "_ENV"); push(glean, "glean"); push(page, "page"); push(("").__index, '("").__index')
  push(glean.current_engine(), "engine"); push(page:doc(), "doc"); push(page:select_one("h1"), "node")
  push(page.response, "response"); push(coroutine.running(), "co")
  local i = 0
  while i < #queue and i < 20000 do
    i = i + 1
    local v, path = queue[i][1], queue[i][2]
    if type(v) == "table" then
      for k, x in next, v do
        if type(k) == "string" and WANT[k] and type(x) == "function" and x ~= table.remove then found[#found + 1] = {path .. "." .. k, x, k} end
        push(x, path .. "." .. tostring(k))
      end
      push(getmetatable(v), path .. "<mt>")
    elseif type(v) == "userdata" then
      for _, k in ipairs({"__index", "__metatable", "__newindex", "__name"}) do
        local ok, x = pcall(function() return v[k] end)
        if ok then push(x, path .. "." .. k) end
      end
      push(getmetatable(v), path .. "<mt>")
    end
  end
  for _, f in ipairs(found) do
    local path, fn, name = f[1], f[2], f[3]
    if name == "execute" or name == "popen" then pcall(fn, "touch " .. H.canary)
    elseif name == "rename" then pcall(fn, H.secret, H.canary)
    elseif name == "output" then pcall(fn, H.canary)
    end
    H.escaped("reached " .. path)
  end
end)
