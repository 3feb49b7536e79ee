-- Readers at a steady rate, for wrk (Debian's wrk has no -R): each thread sends its share of
-- RATE requests a second, one per time slot, whatever the answers' latency, on whichever of its
-- connections is free. A server too slow to keep every connection busy shows as a lower rate.
--   wrk -t1 -c32 -d60s -s bench/paced.lua http://127.0.0.1:8000/en/manifesto/ -- RATE THREADS
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } paced_timespec;
int clock_gettime(int clk_id, paced_timespec *tp);
]]
local ts = ffi.new("paced_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local interval, due

function init(args)
  local rate, threads = tonumber(args[1]), tonumber(args[2] or 1)
  interval = threads * 1000 / rate
  due = now_ms()
end

function delay()
  local t = now_ms()
  -- The next free slot; a backlog (a stalled server) is not made up for beyond one second.
  due = math.max(due + interval, t - 1000)
  return math.max(0, math.floor(due - t))
end
