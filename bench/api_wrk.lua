-- wrk script of bench/api_bench.py: GET paths read from a file (one a line), in rotation,
-- each thread starting at a different place; optional X-API-Key / X-API-Secret headers.
--
--   wrk -s bench/api_wrk.lua http://127.0.0.1:8107 -- PATHS_FILE [API_KEY API_SECRET]

local paths = {}
local index = 1
local headers = {}

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot read " .. tostring(args[1]))
  for line in file:lines() do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. args[1])
  if args[2] then
    headers["X-API-Key"] = args[2]
    headers["X-API-Secret"] = args[3]
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  index = math.random(#paths)
end

function request()
  local path = paths[index]
  index = index % #paths + 1
  return wrk.format("GET", path, headers)
end
