-- Shared by bookings.lua, search.lua and me.lua: each wrk thread takes every `stride`-th
-- request number from its own `offset` (`numbers`), so no two requests of a run share a
-- number; `done` prints one line of JSON that bench/http_wrk.py reads.
local M = {}

function M.lines(path)
   local out = {}
   for line in io.lines(path) do
      if #line > 0 then out[#out + 1] = line end
   end
   return out
end

local threads = 0
function M.setup(thread)
   thread:set("offset", threads)
   threads = threads + 1
end

-- The thread's request numbers g = offset, offset + stride, ... as a function giving the next
-- (RENTBOOK_WRK_THREADS is wrk's -t, the stride). Call from `init`, after `setup` set `offset`.
function M.numbers()
   local stride = tonumber(os.getenv("RENTBOOK_WRK_THREADS"))
   local counter = 0
   return function()
      local g = offset + counter * stride
      counter = counter + 1
      return g
   end
end

function M.done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.max, latency.mean))
end

return M
