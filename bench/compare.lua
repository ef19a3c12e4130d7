-- wrk script of bench/compare.py: cycles through the request paths in a file (presigned URLs), with the given method
-- and a body of the given size. Arguments: PATHS_FILE METHOD BODY_BYTES.
local paths = {}
local method = "GET"
local body = nil
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  method = args[2]
  local size = tonumber(args[3])
  if size > 0 then body = string.rep("b", size) end
  -- Each thread starts at its own place: LuaJIT seeds every thread's generator alike, and threads writing the same
  -- keys in step would measure contention on one row rather than the path of a write.
  math.randomseed(tonumber(tostring({}):match("0x(%x+)") or "0", 16) + os.time())
  counter = math.random(#paths)
end

function request()
  counter = counter + 1
  return wrk.format(method, paths[(counter % #paths) + 1], nil, body)
end
