-- ase-decide.lua: ASE's decision service as an HAProxy action (HAProxy 2.6 or later, built with Lua).
--
-- HAProxy has no authorization request of its own. This action asks `ase start --mode decide
-- --proxy traefik` whether a request may pass, with the headers Traefik's ForwardAuth would send:
--
--   global
--       lua-load /path/to/@ase/cli/haproxy/ase-decide.lua
--   frontend web
--       http-request lua.ase_decide http://127.0.0.1:8000/
--       default_backend app
--
-- Pass (a 2xx answer): the request goes on to the backend with the answer's X-ASE-* identity
-- headers, every X-ASE-* header the client sent removed first. Anything else: the client gets the
-- decision's answer (status, headers, body); a decoy's answer comes as 403 with its real status in
-- X-ASE-Status, and that status is the one the client gets. ASE unreachable, or an answer without
-- ASE's X-ASE-Decision: 500, nothing passes.
-- docs/sideband.md has the whole configuration.

-- Without core.httpclient (HAProxy before 2.5) every request would fail: refuse to start instead.
if core.httpclient == nil then
  error('ase-decide.lua needs HAProxy 2.6 or later (core.httpclient)')
end

-- Headers that describe one connection, or that this action sets itself: never copied.
local HOP_BY_HOP = {
  ['connection'] = true, ['keep-alive'] = true, ['proxy-connection'] = true, ['te'] = true,
  ['trailer'] = true, ['transfer-encoding'] = true, ['upgrade'] = true, ['content-length'] = true,
  ['expect'] = true, ['host'] = true, ['forwarded'] = true,
}

-- The client must not speak for HAProxy (X-Forwarded-*) nor for ASE (X-ASE-*).
local function forged(name)
  return name:sub(1, 12) == 'x-forwarded-' or name:sub(1, 6) == 'x-ase-'
end

-- HAProxy's header tables list a header's values from index 0.
local function values(list)
  local out = {}
  for i = 0, #list do
    if list[i] ~= nil then out[#out + 1] = list[i] end
  end
  return out
end

local function refuse_500(txn, why)
  txn:Alert('ase_decide: ' .. why .. '; answering 500')
  txn:done(txn:reply({
    status = 500,
    headers = { ['content-type'] = { 'text/plain; charset=utf-8' }, ['cache-control'] = { 'no-store' } },
    body = 'Error: Internal Server Error',
  }))
end

local function decide(txn, url)
  -- Everything the enforcer may read (Authorization, Cookie, API keys, ...) goes to ASE.
  local headers = {}
  for name, list in pairs(txn.http:req_get_headers()) do
    if not HOP_BY_HOP[name] and not forged(name) then headers[name] = values(list) end
  end
  local method = txn.sf:method()
  headers['x-forwarded-method'] = { method }
  headers['x-forwarded-uri'] = { txn.sf:pathq() }
  headers['x-forwarded-for'] = { txn.sf:src() }
  headers['x-forwarded-proto'] = { txn.sf:ssl_fc() and 'https' or 'http' }
  local host = txn.sf:req_fhdr('host')
  if host ~= nil and host ~= '' then headers['x-forwarded-host'] = { host } end

  local ok, res = pcall(function()
    return core.httpclient():get({ url = url, headers = headers })
  end)
  if not ok then return refuse_500(txn, 'the decision request failed: ' .. tostring(res)) end
  local status = res and tonumber(res.status)
  if status == nil or status < 100 then return refuse_500(txn, 'no answer from the decision service at ' .. url) end
  local answer = {}
  for name, list in pairs(res.headers or {}) do answer[name] = values(list) end
  -- Only an answer that carries ASE's decision counts: HAProxy's own 503 when ASE is down, or a
  -- URL naming some other service, must not let anything through nor be served as a decision.
  local decision = (answer['x-ase-decision'] or {})[1]
  local passes = status >= 200 and status < 300
  if (passes and decision ~= 'pass') or (not passes and decision ~= 'block' and decision ~= 'decoy') then
    return refuse_500(txn, 'no decision from the decision service at ' .. url .. ' (status ' .. status .. ', no X-ASE-Decision)')
  end

  if passes then
    -- Only ASE names the API and the client: the client's own copies go, the answer's come.
    for name in pairs(txn.http:req_get_headers()) do
      if name:sub(1, 6) == 'x-ase-' then txn.http:req_del_header(name) end
    end
    for name, list in pairs(answer) do
      if name:sub(1, 6) == 'x-ase-' then txn.http:req_set_header(name, list[1] or '') end
    end
    return
  end

  -- A refusal or a decoy: the API's own answer. A 2xx answer would read as "pass", so ASE sends it
  -- as 403 with the real status in X-ASE-Status, which the client gets (a decoy's 200 included).
  local real = tonumber((answer['x-ase-status'] or {})[1] or '')
  local reply = { headers = {} }
  if real ~= nil and real >= 100 and real < 600 and real ~= status then
    reply.status = real
  else
    reply.status = status
    reply.reason = res.reason
  end
  for name, list in pairs(answer) do
    if not HOP_BY_HOP[name] and name:sub(1, 6) ~= 'x-ase-' then reply.headers[name] = list end
  end
  if method ~= 'HEAD' then reply.body = res.body or '' end
  txn:done(txn:reply(reply))
end

core.register_action('ase_decide', { 'http-req' }, function(txn, url)
  if url == nil or url == '' then return refuse_500(txn, 'no decision service URL (http-request lua.ase_decide http://HOST:PORT/)') end
  decide(txn, url)
end, 1)
