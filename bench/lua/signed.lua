-- Sends signed ActivityPub deliveries listed in a file, one per line, tab-separated:
-- PATH DATE DIGEST SIGNATURE BODY (bench/federation_probe.py signs them). Each line is sent once, as
-- in requests.lua: a replayed activity id would be a no-op, not a delivery.
local lines = {}
local next_line = 0
local answered = 0

init = function(args)
  for line in io.lines(args[1]) do
    lines[#lines + 1] = line
  end
end

request = function()
  next_line = next_line + 1
  if next_line > #lines then
    next_line = #lines  -- only reached while the last answers are still coming in
  end
  local path, date, digest, signature, body = lines[next_line]:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
  local headers = {}
  headers["Content-Type"] = "application/activity+json"
  headers["Date"] = date
  headers["Digest"] = digest
  headers["Signature"] = signature
  return wrk.format("POST", path, headers, body)
end

response = function(status, headers, body)
  answered = answered + 1
  if answered >= #lines then
    wrk.thread:stop()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
