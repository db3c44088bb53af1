-- Capture armed while the transport is stopped, after a tempo change, saved mid-render (run by
-- tests/hosts/test_ardour.py through `ardour7-lua`; the Python side then bounces the saved session
-- with `ardour7-export`, a fresh load that must render the capture again and hold the bounce for it):
--
--  1. new session (dummy backend, "Sine Sweep"), 120 BPM from 0 and REDANCE_BPM2 from bar 2
--     (sample 96000 at 48 kHz = beat 4); track A records a clip from the generator;
--  2. the plugin on A (strength REDANCE_STRENGTH; at 0 the take is the source itself); the playhead is put mid-bar after
--     the tempo change and Capture is set to 1 WHILE STOPPED; the transport stays stopped a while
--     (nothing may be captured), then rolls: capture starts on the next bar line of the new tempo;
--  3. the clip is turned down to half gain (so the take stands out from the dry signal), the session
--     is saved at once (the render has just started);
--  4. with REDANCE_LIVE_EXPORT_DIR, the running session is exported right away, as Ardour's export
--     dialog does (`Session:simple_export()`, preset REDANCE_EXPORT_PRESET): the engine free-wheels
--     while the render is still running; then the session is closed.
--
-- With REDANCE_CRASH=1 the session is saved once, with the plugin on the track and nothing captured
-- yet, and Ardour dies (exit without saving or closing) right after the capture instead of step 3:
-- the reopened project has only the plugin's recovery journal to find the capture by.
--
-- Manifest (key=value) for the Python side, as cycle.lua's.

local HERE = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local lib = dofile(HERE .. "lib.lua")
local env = lib.env
local DIR = assert(os.getenv("REDANCE_SESSION_DIR"), "REDANCE_SESSION_DIR")
local MANIFEST = env("REDANCE_MANIFEST", DIR .. ".manifest")
local H = lib.new("stopped", MANIFEST)
local note, fail, sleep_s, wait_until = H.note, H.fail, H.sleep_s, H.wait_until
local NAME = env("REDANCE_SESSION_NAME", "redance")
local PLUGIN = env("REDANCE_PLUGIN", "Redance")
local RATE = tonumber(env("REDANCE_RATE", "48000"))
local BPM2 = tonumber(env("REDANCE_BPM2", "100"))
local CLIP_S = tonumber(env("REDANCE_CLIP_S", "12"))
local STOPPED_S = tonumber(env("REDANCE_STOPPED_S", "1.5"))
local STRENGTH = tonumber(env("REDANCE_STRENGTH", "0"))
local CAPTURE_PARAM = env("REDANCE_CAPTURE_PARAM", "Capture")
local STRENGTH_PARAM = env("REDANCE_STRENGTH_PARAM", "Strength")
local PARAMS = env("REDANCE_PARAMS", "")
local LIVE_EXPORT_DIR = env("REDANCE_LIVE_EXPORT_DIR", "")
local EXPORT_PRESET = env("REDANCE_EXPORT_PRESET", "")
local CRASH = env("REDANCE_CRASH", "") == "1"

local TRS = H.TRS
local function locate(sample)
	Session:request_locate(sample, false, ARDOUR.LocateTransportDisposition.MustStop, TRS)
	wait_until(function() return Session:transport_sample() == sample end, 10, "locate " .. sample)
end

local BAR1 = math.floor(4 * 60 / 120 * RATE + 0.5) -- bar 1 at 120 BPM
local BAR2 = math.floor(4 * 60 / BPM2 * RATE + 0.5) -- bars from bar 2 on

-- 1. session, tempo map, clip ----------------------------------------------------------------------
H.new_session(DIR, NAME, RATE)
note("bar1", BAR1)
note("bar2", BAR2)
local tm = Temporal.TempoMap.fetch_writable()
tm:set_tempo(Temporal.Tempo(120, 120, 4), Temporal.timepos_t(0))
tm:set_tempo(Temporal.Tempo(BPM2, BPM2, 4), Temporal.timepos_t(BAR1))
Temporal.TempoMap.update(tm)

local A = H.new_track("A")
H.record({ A }, CLIP_S, RATE)

local clip = nil
for reg in A:playlist():region_list():iter() do clip = reg end
if clip == nil then fail("no clip recorded") end
note("clip.position", clip:position():samples())
note("clip.length", clip:length():samples())
local ar = clip:to_audioregion()
for c = 0, ar:n_channels() - 1 do note("clip.file" .. c, ar:source(c):to_filesource():path()) end

-- 2. the plugin; Capture raised while stopped, then Play -------------------------------------------
local proc = H.add_plugin(A, PLUGIN)
local P = H.params(proc)
local function set_param(name, value) P.set(proc, name, value) end
P.set_all({ proc }, PARAMS)
set_param(STRENGTH_PARAM, STRENGTH)
set_param(CAPTURE_PARAM, 0)
if CRASH then
	sleep_s(0.3) -- the parameters reach the plugin with the next cycles
	Session:save_state("", false, false, false, false, false)
	note("saved", "before the capture")
end

-- mid-bar in the second bar of the new tempo: capture must start on the bar after it
local ARM_AT = BAR1 + BAR2 + math.floor(BAR2 / 3)
local REGION_START = BAR1 + 2 * BAR2
local REGION_END = REGION_START + BAR2
note("arm_at", ARM_AT)
note("region.start", REGION_START)
note("region.end", REGION_END)
if REGION_END > clip:position():samples() + clip:length():samples() then fail("clip too short for the region") end
locate(ARM_AT)
sleep_s(0.5)
set_param(CAPTURE_PARAM, 1)
sleep_s(STOPPED_S) -- stopped and armed: nothing may be captured yet
if Session:transport_sample() ~= ARM_AT then fail("the transport moved while it should be stopped") end
Session:request_roll(TRS)
wait_until(function() return Session:transport_sample() >= REGION_END + RATE / 4 end, (REGION_END / RATE) + 30, "the capture pass")
Session:request_stop(false, false, TRS)
wait_until(function() return not Session:transport_rolling() end, 10, "stop")
set_param(CAPTURE_PARAM, 0)

-- The session range into the manifest, which is then complete.
local function manifest_ok()
	local range = Session:locations():session_range_location()
	if range then
		note("session.start", range:start():samples())
		note("session.end", range:_end():samples())
	end
	H.write_manifest("ok")
end

if CRASH then
	sleep_s(1.0) -- the capture reaches the bridge, which writes it and its journal
	manifest_ok()
	io.stdout:flush()
	os.exit(0) -- dies here: no save, no close_session
end

-- 3. half gain, save at once (mid-render), close ---------------------------------------------------
ar:set_scale_amplitude(0.5)
sleep_s(0.3) -- the parameter change reaches the plugin with the next cycles
Session:save_state("", false, false, false, false, false)
-- Written before the export: Ardour sometimes aborts (SIGABRT) soon after an export or at
-- close_session, and a manifest written then can be lost
manifest_ok()

-- 4. the export dialog's equivalent, right after the capture ----------------------------------------
if LIVE_EXPORT_DIR ~= "" then
	local e = Session:simple_export()
	e:set_name("live")
	if not e:set_preset(EXPORT_PRESET) then fail("export preset " .. EXPORT_PRESET .. " not found") end
	e:set_folder(LIVE_EXPORT_DIR)
	local t0 = os.time()
	if not e:run_export() then fail("simple_export failed") end
	local f = assert(io.open(MANIFEST, "a"))
	f:write("live_export_s=", os.time() - t0, "\n")
	f:close()
end
close_session()
