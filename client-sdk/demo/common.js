// Shared helpers of the demo pages (consult, grand round, device monitor).
// Plain browser JS; the SDK comes from the IIFE bundle (`window.TelehealthSDK`).
(() => {
	'use strict';

	const { ConnectionQuality } = window.TelehealthSDK;

	/** `?room=R#token=T`: the token rides in the fragment, which never reaches a server log. */
	function linkParams() {
		return {
			roomId: new URLSearchParams(location.search).get('room') || '',
			token: new URLSearchParams(location.hash.slice(1)).get('token') || '',
		};
	}

	/** Signaling shares this origin, unless the server runs it on uWebSockets.js's own port. */
	async function signalingUrl() {
		try {
			const response = await fetch('/api/client-config', { cache: 'no-store' });
			const config = response.ok ? await response.json() : {};
			if (config.signalingPort) return `${location.protocol}//${location.hostname}:${config.signalingPort}`;
		} catch {
			// Older server: same origin.
		}
		return location.origin;
	}

	/** Demo mode only (DEMO=1): the server mints development tokens. */
	async function devToken(room, role, name) {
		const response = await fetch(`/api/dev/token?${new URLSearchParams({ room, role, name })}`, { cache: 'no-store' });
		if (!response.ok) throw Object.assign(new Error(`the server offers no development tokens (HTTP ${response.status})`), { code: 'no_dev_tokens' });
		return (await response.json()).token;
	}

	async function devTokensOffered() {
		try {
			return (await fetch(`/api/dev/token?${new URLSearchParams({ room: 'probe', role: 'observer', name: 'probe' })}`, { cache: 'no-store' })).ok;
		} catch {
			return false;
		}
	}

	/** A sentence a person understands, with the stable code for support staff. */
	const FRIENDLY = {
		auth_token_expired: 'This link has expired. Ask your portal for a new one.',
		auth_invalid_token: 'This link is not valid. Open the link your portal gave you.',
		auth_wrong_room: 'This link belongs to another visit.',
		auth_invalid_claims: 'This link is incomplete. Ask your portal for a new one.',
		auth_missing_token: 'This link has no join token.',
		connection_failed: 'The video service cannot be reached. Check your internet connection.',
		room_full: 'This visit is full.',
		media_unavailable: 'Your camera or microphone could not be used.',
		unavailable: 'This is not available on this server.',
		forbidden: 'Your role does not allow this.',
		reconnect_failed: 'The connection could not be restored.',
	};
	function describeError(error) {
		const code = (error && error.code) || 'error';
		const detail = (error && error.message) || String(error);
		const friendly = FRIENDLY[code];
		return { code, text: friendly ? `${friendly} (${detail})` : detail };
	}

	const QUALITY_TEXT = {
		[ConnectionQuality.Excellent]: 'Excellent connection',
		[ConnectionQuality.Good]: 'Good connection',
		[ConnectionQuality.Poor]: 'Poor connection: video lowered',
		[ConnectionQuality.Lost]: 'Connection lost',
		[ConnectionQuality.Unknown]: 'Measuring connection…',
	};
	function qualityBars(quality = ConnectionQuality.Unknown) {
		const el = document.createElement('span');
		el.className = 'quality';
		el.append(document.createElement('i'), document.createElement('i'), document.createElement('i'));
		setQuality(el, quality);
		return el;
	}
	function setQuality(el, quality) {
		el.dataset.quality = quality;
		el.title = QUALITY_TEXT[quality] || quality;
	}

	function initials(name) {
		return (name || '?')
			.split(/\s+/)
			.filter(Boolean)
			.slice(0, 2)
			.map((w) => w[0].toUpperCase())
			.join('');
	}

	/** A button whose action may fail: the failure goes to `onError`, never to the console. */
	function button(text, onClick, className, onError) {
		const b = document.createElement('button');
		b.type = 'button';
		b.textContent = text;
		if (className) b.className = className;
		b.addEventListener('click', () => {
			b.disabled = true;
			Promise.resolve()
				.then(onClick)
				.catch((error) => onError && onError(error, text))
				.finally(() => {
					b.disabled = false;
				});
		});
		return b;
	}

	/** A video tile: video + audio elements, avatar when there is no video, name label with quality bars, badges. */
	function createTile({ id, name, role, local = false }) {
		const tile = document.createElement('div');
		tile.className = local ? 'tile local' : 'tile';
		tile.dataset.peerId = id;
		tile.dataset.role = role || '';
		const video = document.createElement('video');
		video.autoplay = true;
		video.playsInline = true;
		video.muted = true; // sound plays in the <audio> element
		video.dataset.peerId = id;
		const audio = document.createElement('audio');
		audio.autoplay = true;
		audio.dataset.peerId = id;
		const avatar = document.createElement('div');
		avatar.className = 'avatar';
		const circle = document.createElement('span');
		circle.textContent = initials(name);
		avatar.append(circle);
		const label = document.createElement('div');
		label.className = 'label';
		const quality = qualityBars();
		const nameEl = document.createElement('span');
		nameEl.className = 'name';
		nameEl.textContent = local ? `${name || 'You'} (you)` : `${name}${role ? ' · ' + role : ''}`;
		label.append(quality, nameEl);
		const badges = document.createElement('div');
		badges.className = 'badges';
		tile.append(video, audio, avatar, label, badges);
		return tile;
	}

	function setBadge(tile, name, on, className) {
		if (!tile) return;
		const badges = tile.querySelector('.badges');
		let badge = badges.querySelector(`[data-badge="${name}"]`);
		if (on && !badge) {
			badge = document.createElement('span');
			badge.className = className ? `badge ${className}` : 'badge';
			badge.dataset.badge = name;
			badge.textContent = name;
			badges.append(badge);
		} else if (!on && badge) {
			badge.remove();
		}
	}

	/**
	 * Lays `count` 16:9 tiles out in `container` as large as they fit without
	 * scrolling (a gallery, like a video-visit room: everyone stays visible,
	 * which also keeps adaptive stream from pausing anyone).
	 */
	function fitGrid(container, count, gap = 10) {
		const width = container.clientWidth;
		const height = container.clientHeight;
		if (!count || !width || !height) return;
		let best = { cols: 1, w: 0 };
		for (let cols = 1; cols <= count; cols++) {
			const rows = Math.ceil(count / cols);
			const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * (16 / 9));
			if (w > best.w) best = { cols, w };
		}
		container.style.gridTemplateColumns = `repeat(${best.cols}, ${Math.floor(best.w)}px)`;
	}

	function formatBitrate(bps) {
		if (!bps) return '0 kbit/s';
		return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
	}

	/**
	 * The state pill, the banner and the status card that the grand-round and
	 * device pages share (the consult page has richer variants of its own).
	 */
	function pageChrome(ui, demo) {
		return {
			setState(state, text) {
				demo.state = state;
				ui.state.textContent = text;
				ui.state.dataset.state = state;
			},
			banner(text, kind = 'info', hideAfterMs) {
				ui.banner.textContent = text;
				ui.banner.className = `banner ${kind}`;
				ui.banner.hidden = !text;
				if (hideAfterMs) setTimeout(() => (ui.banner.hidden = true), hideAfterMs);
			},
			statusCard(title, text, spinner = false) {
				ui.call.hidden = true;
				ui.controls.hidden = true;
				ui.statusCard.hidden = false;
				ui.statusTitle.textContent = title;
				ui.statusText.textContent = text;
				ui.statusSpinner.hidden = !spinner;
			},
		};
	}

	/** A failure on the status card, in words with its code; `demo.error` keeps it for tests. */
	function showFailure(chrome, demo, title, error) {
		chrome.setState('error', 'Error');
		const { code, text } = describeError(error);
		demo.error = { code, message: (error && error.message) || String(error) };
		chrome.statusCard(title, `${text} [${code}]`);
	}

	/**
	 * Starts a watch-only page (grand round, device monitor): reads the link
	 * (`?room=R#token=T`), falls back to a development token in demo mode, says
	 * so when the link has no token, connects, and shows a failure in words.
	 * `texts`: { incomplete, connecting, failed }; `wire(room)` adds the page's
	 * event handlers before connecting; `onJoined(room)` shows the page.
	 */
	async function startViewer({ ui, demo, chrome, devIdentity, texts, roomOptions, wire, onJoined }) {
		const { roomId, token } = linkParams();
		ui.roomName.textContent = roomId;
		let joinToken = token;
		if (!joinToken && (await devTokensOffered())) joinToken = await devToken(roomId || 'demo', devIdentity.role, devIdentity.name).catch(() => '');
		if (!joinToken) {
			chrome.setState('no-token', 'No link');
			chrome.statusCard('This link is incomplete', texts.incomplete);
			return;
		}
		chrome.setState('connecting', 'Connecting');
		chrome.statusCard('Connecting…', texts.connecting, true);
		const room = new window.TelehealthSDK.Room({ ...(roomId ? { room: roomId } : {}), ...roomOptions });
		demo.room = room;
		wire(room);
		try {
			await room.connect(await signalingUrl(), joinToken);
			ui.roomName.textContent = room.name || '';
			onJoined(room);
		} catch (error) {
			showFailure(chrome, demo, texts.failed, error);
		}
	}

	/** A viewer page's `Disconnected` handler: the room ended (shown elsewhere), the user left, or a failure. */
	function onViewerDisconnected(chrome, demo, { leftTitle, failedTitle }) {
		const { DisconnectReason } = window.TelehealthSDK;
		return (reason, error) => {
			if (reason === DisconnectReason.RoomClosed) return;
			if (reason === DisconnectReason.ClientLeft) {
				chrome.setState('left', 'Left');
				chrome.statusCard(leftTitle, 'Open the link again to come back.');
				return;
			}
			showFailure(chrome, demo, failedTitle, error || { code: reason, message: reason });
		};
	}

	window.DemoKit = { startViewer, onViewerDisconnected, showFailure, pageChrome, linkParams, signalingUrl, devToken, devTokensOffered, describeError, qualityBars, setQuality, QUALITY_TEXT, initials, button, createTile, setBadge, fitGrid, formatBitrate };
})();
