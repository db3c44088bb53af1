-- The musician's cycle in Ardour 7, headless (run by tests/hosts/test_ardour.py through `ardour7-lua`):
--
--  1. new session (dummy backend, "Sine Sweep" generator), tempo REDANCE_BPM 4/4, two stereo tracks
--     A and B record a clip from the generator;
--  2. the plugin goes on A and B (pre-fader); parameters are set by name; the Capture parameter is
--     automated 0 -> 1 at CAPTURE_ARM_S (mid-bar), so capture starts on the next bar line (bar 2) and
--     lasts Length bars; Strength is automated along the region: constant 0 on A (the take must be the
--     source itself), a ramp on B;
--  3. pass 1 rolls over the region (capture), then the script waits for the renders (polling the
--     plugin state that Ardour saves, for REDANCE_READY_PATTERN), with a timeout;
--  4. the clip regions are turned down to half gain (so a take of the original audio is told apart
--     from the dry signal), Capture automation is switched off, and pass 2 rolls over the whole clip
--     while tracks OutA/OutB record A's and B's outputs;
--  5. the session is saved (main snapshot: master = A + B, the Out tracks disconnected) and a manifest
--     (key=value lines) is written for the Python side, which also runs `ardour7-export`.
--
-- Configuration comes from the environment (see test_ardour.py). Exit status is not reliable
-- (luasession returns 0 after a Lua error): the driver judges the manifest's "status=ok" line.

local HERE = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local lib = dofile(HERE .. "lib.lua")
local env = lib.env

local DIR = assert(os.getenv("REDANCE_SESSION_DIR"), "REDANCE_SESSION_DIR")
local NAME = env("REDANCE_SESSION_NAME", "redance")
local PLUGIN = env("REDANCE_PLUGIN", "Redance")
local RATE = tonumber(env("REDANCE_RATE", "48000"))
local BPM = tonumber(env("REDANCE_BPM", "120"))
local CLIP_S = tonumber(env("REDANCE_CLIP_S", "8"))
local CAPTURE_ARM_S = tonumber(env("REDANCE_CAPTURE_ARM_S", "1.0"))
local LENGTH_BARS = tonumber(env("REDANCE_LENGTH_BARS", "1"))
local RENDER_TIMEOUT = tonumber(env("REDANCE_RENDER_TIMEOUT", "300"))
local READY_PATTERN = env("REDANCE_READY_PATTERN", "")
local CAPTURE_PARAM = env("REDANCE_CAPTURE_PARAM", "Capture")
local STRENGTH_PARAM = env("REDANCE_STRENGTH_PARAM", "Strength")
local STRENGTH_B0 = tonumber(env("REDANCE_STRENGTH_B0", "0.3"))
local STRENGTH_B1 = tonumber(env("REDANCE_STRENGTH_B1", "0.9"))
-- "Name=value;Name=value": set by parameter label, in the plugin's units (toggles and enums: 0, 1, ...)
local PARAMS = env("REDANCE_PARAMS", "")
local MANIFEST = env("REDANCE_MANIFEST", DIR .. ".manifest")

local H = lib.new("cycle", MANIFEST)
local note, fail, sleep_s, wait_until, write_manifest = H.note, H.fail, H.sleep_s, H.wait_until, H.write_manifest
local ND = H.ND

local SPB = 60.0 / BPM * RATE -- samples per beat
local BAR = math.floor(4 * SPB + 0.5)

-- 1. session, tracks, clip --------------------------------------------------------------------------
H.new_session(DIR, NAME, RATE)
note("bar", BAR)

local tm = Temporal.TempoMap.fetch_writable()
tm:set_tempo(Temporal.Tempo(BPM, BPM, 4), Temporal.timepos_t(0))
Temporal.TempoMap.update(tm)

local new_track = H.new_track
local A = new_track("A")
local B = new_track("B")
H.record({ A, B }, CLIP_S, RATE)

local function only_region(track)
	local r = nil
	local n = 0
	for reg in track:playlist():region_list():iter() do r = reg; n = n + 1 end
	if n ~= 1 then fail(track:name() .. " has " .. n .. " regions") end
	return r
end
local function note_region(key, r)
	note(key .. ".position", r:position():samples())
	note(key .. ".start", r:start():samples())
	note(key .. ".length", r:length():samples())
	local ar = r:to_audioregion()
	for c = 0, ar:n_channels() - 1 do
		note(key .. ".file" .. c, ar:source(c):to_filesource():path())
	end
end
local clipA = only_region(A)
local clipB = only_region(B)
note_region("clipA", clipA)
note_region("clipB", clipB)
local CLIP_END = clipA:position():samples() + clipA:length():samples()

-- Out tracks: record A's and B's outputs on pass 2; their outputs go nowhere
-- Ardour auto-connects new tracks (inputs to the generator, outputs to master) from a background
-- thread, some time after new_audio_track returns: let that happen first, then rewire (twice, to be
-- sure), or a recorder may end up recording the generator too.
local function rewire(name, src)
	local t = Session:route_by_name(name)
	t:input():disconnect_all(nil)
	for c = 0, 1 do
		t:input():audio(c):connect(src:output():audio(c):name())
	end
	t:output():disconnect_all(nil)
end
new_track("OutA")
new_track("OutB")
sleep_s(1.0)
for _ = 1, 2 do
	rewire("OutA", A)
	rewire("OutB", B)
	sleep_s(0.5)
end
local OutA, OutB

-- 2. the plugin ------------------------------------------------------------------------------------
local pA = H.add_plugin(A, PLUGIN)
local pB = H.add_plugin(B, PLUGIN)

local P = H.params(pA)
for i = 0, P.plug:parameter_count() - 1 do
	if P.plug:parameter_is_input(i) then
		local _, pd = P.plug:get_parameter_descriptor(i, ARDOUR.ParameterDescriptor())
		note("param." .. i, P.plug:parameter_label(i) .. "|" .. pd[2].lower .. "|" .. pd[2].upper .. "|" .. pd[2].normal)
	end
end
local pidx, set_param = P.pidx, P.set
P.set_all({ pA, pB }, PARAMS)

local function pos(s) return Temporal.timepos_t(math.floor(s)) end
local function automate(proc, name, points)
	local al, cl, pd = ARDOUR.LuaAPI.plugin_automation(proc, pidx(name))
	if al:isnil() then fail("no automation list for " .. name) end
	cl:clear_list()
	for _, p in ipairs(points) do cl:add(pos(p[1]), p[2], false, false) end
	local ac = proc:to_automatable():automation_control(
		Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, pidx(name)), false)
	if ac:isnil() then fail("no automation control for " .. name) end
	ac:set_automation_state(ARDOUR.AutoState.Play)
	return ac
end

local REGION_START = 2 * BAR -- the bar line after CAPTURE_ARM_S (arm inside bar 1, 0-based sample 0)
if CAPTURE_ARM_S * RATE >= BAR then
	REGION_START = (math.floor(CAPTURE_ARM_S * RATE / BAR) + 1) * BAR
else
	REGION_START = BAR
end
local REGION_END = REGION_START + LENGTH_BARS * BAR
note("region.start", REGION_START)
note("region.end", REGION_END)
if REGION_END > CLIP_END then fail("clip too short for the region") end

-- Automation in Play mode applies the value at the playhead even while stopped: put the playhead
-- at 0 (where Capture is 0) before switching it on, or the plugin sees Capture rise while stopped.
Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, H.TRS)
wait_until(function() return Session:transport_sample() == 0 end, 10, "locate 0")
local arm = math.floor(CAPTURE_ARM_S * RATE)
local capA = automate(pA, CAPTURE_PARAM, { { 0, 0 }, { arm - 1, 0 }, { arm, 1 } })
local capB = automate(pB, CAPTURE_PARAM, { { 0, 0 }, { arm - 1, 0 }, { arm, 1 } })
automate(pA, STRENGTH_PARAM, { { 0, 0 }, { CLIP_END, 0 } })
automate(pB, STRENGTH_PARAM, { { 0, STRENGTH_B0 }, { REGION_START, STRENGTH_B0 },
	{ REGION_END - 1, STRENGTH_B1 }, { CLIP_END, STRENGTH_B1 } })
sleep_s(0.5) -- parameters reach the plugin only once the engine has run

-- 3. pass 1: capture -------------------------------------------------------------------------------
Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, H.TRS)
sleep_s(0.3)
Session:request_roll(H.TRS)
wait_until(function() return Session:transport_sample() >= REGION_END + RATE / 4 end,
	(REGION_END / RATE) + 30, "pass 1")
Session:request_stop(false, false, H.TRS)
wait_until(function() return not Session:transport_rolling() end, 10, "stop")

-- Capture off for the following passes (and for the export's fresh load)
capA:set_automation_state(ARDOUR.AutoState.Off)
capB:set_automation_state(ARDOUR.AutoState.Off)
set_param(pA, CAPTURE_PARAM, 0)
set_param(pB, CAPTURE_PARAM, 0)

-- wait for the renders: Ardour writes each plugin's state (VST3 chunk, base64) into the session file
local B64 = {}
do
	local abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i = 1, #abc do B64[abc:byte(i)] = i - 1 end
end
local function unbase64(data)
	local out, n = {}, 0
	local acc, bits = 0, 0
	for i = 1, #data do
		local v = B64[data:byte(i)]
		if v then
			acc = ((acc << 6) | v) & 0xFFFFFF
			bits = bits + 6
			if bits >= 8 then
				bits = bits - 8
				n = n + 1
				out[n] = (acc >> bits) & 0xFF
			end
		end
	end
	local parts = {}
	for i = 1, n, 4096 do
		parts[#parts + 1] = string.char(table.unpack(out, i, math.min(i + 4095, n)))
	end
	return table.concat(parts)
end
local function plugin_states()
	Session:save_state("poll", false, false, false, false, false)
	local f = io.open(DIR .. "/poll.ardour", "r")
	if not f then return {} end
	local xml = f:read("a")
	f:close()
	local states = {}
	for chunk in string.gmatch(xml, "<chunk>([^<]*)</chunk>") do states[#states + 1] = unbase64(chunk) end
	return states
end
local t0 = os.time()
if READY_PATTERN ~= "" then
	local ready = false
	while not ready do
		local states = plugin_states()
		local n = 0
		for _, s in ipairs(states) do
			if string.find(s, READY_PATTERN) then n = n + 1 end
		end
		ready = n >= 2
		if not ready then
			if os.time() - t0 > RENDER_TIMEOUT then fail("render not ready after " .. RENDER_TIMEOUT .. " s") end
			sleep_s(1.0)
		end
	end
	os.remove(DIR .. "/poll.ardour")
	os.remove(DIR .. "/poll.history")
else
	sleep_s(tonumber(env("REDANCE_RENDER_WAIT", "10")))
end
note("render_wait_s", os.time() - t0)

-- 4. pass 2: hear the takes in place ---------------------------------------------------------------
clipA:to_audioregion():set_scale_amplitude(0.5)
clipB:to_audioregion():set_scale_amplitude(0.5)
-- (the Track objects returned by new_audio_track():front() lose their rec_enable_control after
-- the connection changes; fresh references from route_by_name work)
OutA = Session:route_by_name("OutA"):to_track()
OutB = Session:route_by_name("OutB"):to_track()
OutA:rec_enable_control():set_value(1, ND)
OutB:rec_enable_control():set_value(1, ND)
Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, H.TRS)
sleep_s(0.5)
Session:maybe_enable_record(false)
Session:request_roll(H.TRS)
wait_until(function() return Session:transport_sample() >= CLIP_END + RATE / 2 end, CLIP_END / RATE + 30, "pass 2")
Session:request_stop(false, false, H.TRS)
wait_until(function() return not Session:transport_rolling() end, 10, "stop")
sleep_s(1.0)
OutA:rec_enable_control():set_value(0, ND)
OutB:rec_enable_control():set_value(0, ND)
Session:disable_record(false, false)
note_region("outA", only_region(OutA))
note_region("outB", only_region(OutB))

-- 5. save: the export bounces [session start, session end] of master = A + B
Session:save_state("", false, false, false, false, false)
local range = Session:locations():session_range_location()
if range then
	note("session.start", range:start():samples())
	note("session.end", range:_end():samples())
end
write_manifest("ok")
close_session()
