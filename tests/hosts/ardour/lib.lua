-- What the Ardour test scripts (cycle.lua, stopped.lua) share: configuration from the environment,
-- the key=value manifest the Python side reads, waiting on the session, a session on the dummy
-- backend, recording a clip from its generator, and the plugin with its parameters by label.
--
--   local HERE = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
--   local lib = dofile(HERE .. "lib.lua")
--   local H = lib.new("cycle", lib.env("REDANCE_MANIFEST", ...))
--
-- Exit status is not reliable (luasession returns 0 after a Lua error): the driver judges the
-- manifest's "status=ok" line, which `H.fail` never writes.

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then return default end
	return v
end

local function new(tag, manifest_path)
	local H = { env = env }
	local lines = {}

	function H.note(k, v)
		lines[#lines + 1] = k .. "=" .. tostring(v)
		print("[" .. tag .. "] " .. k .. "=" .. tostring(v))
	end

	function H.write_manifest(status)
		local f = assert(io.open(manifest_path, "w"))
		for _, l in ipairs(lines) do f:write(l, "\n") end
		f:write("status=", status, "\n")
		f:close()
	end

	function H.fail(msg)
		H.note("error", msg)
		H.write_manifest("failed")
		error(msg)
	end

	function H.sleep_s(s) ARDOUR.LuaAPI.usleep(math.floor(s * 1000000)) end

	function H.wait_until(pred, timeout, what)
		local t = 0
		while not pred() do
			if t > timeout then H.fail("timeout waiting for " .. what) end
			H.sleep_s(0.05)
			t = t + 0.05
		end
	end

	H.TRS = ARDOUR.TransportRequestSource.TRS_UI
	H.ND = PBD.GroupControlDisposition.NoGroup

	-- A new session on the dummy backend, whose inputs play a sine sweep.
	function H.new_session(dir, name, rate)
		AudioEngine:set_backend("None (Dummy)", "", "")
		AudioEngine:set_device_name("Sine Sweep")
		if not create_session(dir, name, rate) then H.fail("create_session failed") end
		H.note("rate", Session:nominal_sample_rate())
	end

	function H.new_track(name)
		local tl = Session:new_audio_track(2, 2, nil, 1, name, ARDOUR.PresentationInfo.max_order,
			ARDOUR.TrackMode.Normal, true)
		local t = tl:front()
		if t:isnil() then H.fail("new_audio_track " .. name) end
		return t
	end

	-- Records `seconds` of the generator on every track in `tracks`, from the playhead.
	function H.record(tracks, seconds, rate)
		for _, t in ipairs(tracks) do t:rec_enable_control():set_value(1, H.ND) end
		H.sleep_s(0.2)
		Session:maybe_enable_record(false)
		Session:request_roll(H.TRS)
		H.wait_until(function() return Session:transport_sample() >= seconds * rate end, seconds + 20, "clip recording")
		Session:request_stop(false, false, H.TRS)
		H.wait_until(function() return not Session:transport_rolling() end, 10, "stop")
		H.sleep_s(1.0) -- the butler finishes the capture files and regions
		for _, t in ipairs(tracks) do t:rec_enable_control():set_value(0, H.ND) end
		Session:disable_record(false, false)
	end

	-- The plugin (VST3, by name) first on `track`.
	function H.add_plugin(track, plugin)
		local proc = ARDOUR.LuaAPI.new_plugin(Session, plugin, ARDOUR.PluginType.VST3, "")
		if proc:isnil() then H.fail("plugin '" .. plugin .. "' not found (VST3 cache?)") end
		if track:add_processor_by_index(proc, 0, nil, true) ~= 0 then H.fail("add_processor_by_index") end
		return proc
	end

	-- The plugin's input parameters by label: { index = { label = i }, pidx(label), set(proc, label, value) }.
	function H.params(proc)
		local plug = proc:to_insert():plugin(0)
		local P = { index = {}, plug = plug }
		for i = 0, plug:parameter_count() - 1 do
			if plug:parameter_is_input(i) then P.index[plug:parameter_label(i)] = i end
		end
		function P.pidx(name)
			local i = P.index[name]
			if i == nil then H.fail("plugin has no parameter '" .. name .. "'") end
			return i
		end
		function P.set(p, name, value)
			if not ARDOUR.LuaAPI.set_processor_param(p, P.pidx(name), value) then
				H.fail("set_processor_param " .. name)
			end
		end
		-- "Name=value;Name=value", in the plugin's units (toggles and enums: 0, 1, ...), on each of `procs`.
		function P.set_all(procs, spec)
			for kv in string.gmatch(spec, "[^;]+") do
				local k, v = string.match(kv, "^%s*(.-)%s*=%s*(.-)%s*$")
				for _, p in ipairs(procs) do P.set(p, k, tonumber(v)) end
			end
		end
		return P
	end

	return H
end

return { env = env, new = new }
