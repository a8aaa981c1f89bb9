-- glean.expect — what `glean test` compares: the records a crawl emitted
-- against an expected JSON Lines file, matched by the adapter's key (url
-- by default) and compared field by field, with a diff a person can read.
-- Values are compared as JSON: {"a":1,"b":[2]} equals {"b":[2],"a":1}.
local glean = require "glean"

local expect = {}

local json = glean.json

-- The records of a JSON Lines file as a list, each with the line it came
-- from; raises naming the file and line of one that is not a JSON object.
function expect.read(path)
  local f, err = io.open(path, "rb")
  if not f then error(("cannot read '%s': %s"):format(path, err), 0) end
  local records, n = {}, 0
  for line in f:lines() do
    n = n + 1
    if line:find("%S") then
      local ok, record = pcall(json.decode, line)
      if not ok or type(record) ~= "table" or record[1] ~= nil then
        f:close()
        error(("%s:%d: not a JSON object%s"):format(path, n, ok and "" or ": " .. tostring(record)), 0)
      end
      records[#records + 1] = {record = record, line = n}
    end
  end
  f:close()
  return records
end

-- One value as the diff shows it (JSON, cut to a line's worth).
local function show(v)
  if v == nil then return "(none)" end
  local s = json.encode(v)
  if #s > 200 then s = s:sub(1, 200) .. ("... (%d bytes)"):format(#s) end
  return s
end

-- The records by key: a table key -> entry, the keys in order of first
-- appearance, and the keys seen more than once (with how often).
local function by_key(entries, key)
  local map, order, repeats = {}, {}, {}
  for _, e in ipairs(entries) do
    local k = e.record[key]
    k = k == nil and "(no " .. key .. ")" or tostring(k)
    if map[k] then
      repeats[k] = (repeats[k] or 1) + 1
    else
      map[k] = e
      order[#order + 1] = k
    end
  end
  return map, order, repeats
end

-- The fields in which two records differ, sorted: {name, expected, got}.
local function differences(want, got)
  local names, seen = {}, {}
  for _, r in ipairs({want, got}) do
    for name in pairs(r) do
      if not seen[name] then seen[name] = true; names[#names + 1] = name end
    end
  end
  table.sort(names)
  local diffs = {}
  for _, name in ipairs(names) do
    local a, b = want[name], got[name]
    if a == nil or b == nil or json.encode(a) ~= json.encode(b) then diffs[#diffs + 1] = {name, a, b} end
  end
  return diffs
end

-- Compares the records got (a list of records) with those expected (as
-- expect.read gives them); returns the report: differing (a list of
-- {key, diffs}), missing and extra (lists of keys), twice (key -> count,
-- records emitted more than once), and equal (nothing of these).
function expect.compare(expected, got, key)
  local list = {}
  for i, r in ipairs(got) do list[i] = {record = r} end
  local want, want_order, want_twice = by_key(expected, key)
  local have, have_order, have_twice = by_key(list, key)
  local report = {key = key, differing = {}, missing = {}, extra = {}, twice = have_twice,
                  expected_twice = want_twice, expected = #want_order, got = #have_order}
  for _, k in ipairs(want_order) do
    if not have[k] then
      report.missing[#report.missing + 1] = k
    else
      local diffs = differences(want[k].record, have[k].record)
      if #diffs > 0 then report.differing[#report.differing + 1] = {k, diffs, want[k].line} end
    end
  end
  for _, k in ipairs(have_order) do
    if not want[k] then report.extra[#report.extra + 1] = k end
  end
  report.equal = #report.differing == 0 and #report.missing == 0 and #report.extra == 0
    and next(have_twice) == nil and next(want_twice) == nil
  return report
end

-- The report as text: each differing record with its fields (expected,
-- then got), the missing and extra records, and a summary line.
function expect.format(report, expected_path)
  local out = {}
  local function line(...) out[#out + 1] = table.concat({...}) end
  for _, d in ipairs(report.differing) do
    line(("record %s = %s (%s:%d) differs:"):format(report.key, d[1], expected_path, d[3]))
    for _, f in ipairs(d[2]) do
      line("  ", f[1], ":")
      line("    expected ", show(f[2]))
      line("    got      ", show(f[3]))
    end
  end
  for _, k in ipairs(report.missing) do line(("missing record %s = %s"):format(report.key, k)) end
  for _, k in ipairs(report.extra) do line(("extra record %s = %s"):format(report.key, k)) end
  local function repeated(map, what)
    local keys = {}
    for k in pairs(map) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do line(("%s %s = %s %d times"):format(what, report.key, k, map[k])) end
  end
  repeated(report.twice, "emitted record")
  repeated(report.expected_twice, ("%s lists record"):format(expected_path))
  if report.equal then
    line(("ok: %d records as expected"):format(report.expected))
  else
    line(("FAILED: %d expected, %d got: %d differ, %d missing, %d extra"):format(
      report.expected, report.got, #report.differing, #report.missing, #report.extra))
  end
  return table.concat(out, "\n") .. "\n"
end

-- Writes records to path as JSON Lines sorted by key (so that the file's
-- diffs in version control show what changed), through a temporary file
-- renamed over it: a failure leaves the old file.
function expect.write(path, records, key)
  local sorted = {}
  for i, r in ipairs(records) do sorted[i] = {tostring(r[key]), json.encode(r)} end
  table.sort(sorted, function(a, b) return a[1] < b[1] end)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error(("cannot write '%s': %s"):format(tmp, err), 0) end
  for _, r in ipairs(sorted) do f:write(r[2], "\n") end
  local ok, werr = f:close()
  if not ok then os.remove(tmp); error(("cannot write '%s': %s"):format(tmp, werr), 0) end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp); error(("cannot replace '%s': %s"):format(path, rerr), 0) end
end

return expect
