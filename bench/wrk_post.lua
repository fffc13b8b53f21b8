-- Each request POSTs one line of the targets file: path <TAB> token <TAB> json body.
-- Threads take interleaved lines, so no two requests share a (task, period).
local lines = {}
for line in io.lines(os.getenv("BENCH_TARGETS")) do
  local p, t, b = line:match("([^\t]*)\t([^\t]*)\t(.*)")
  lines[#lines + 1] = {p, t, b}
end
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  n = 0
end

function request()
  local i = offset + n * nthreads + 1
  n = n + 1
  local target = lines[((i - 1) % #lines) + 1]
  local headers = {["Content-Type"] = "application/json"}
  if target[2] ~= "" then headers["Authorization"] = "Token " .. target[2] end
  return wrk.format("POST", target[1], headers, target[3])
end

function done(summary, latency, requests)
  local codes = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), codes))
end
