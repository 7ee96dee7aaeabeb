// Consult room of the demo portal. Plain browser JS on the IIFE bundle
// (`window.TelehealthSDK`) and common.js (`window.DemoKit`).
// URL: /demo/?room=ROOM#token=JOIN_TOKEN (the token stays in the fragment).
// Tests read `window.demo`: { room, state, error, log }.
(() => {
	'use strict';

	const { Room, RoomEvent, ConnectionState, DisconnectReason, ReconnectReason, ConnectionQuality } = window.TelehealthSDK;
	const Kit = window.DemoKit;
	const CAMERA_ROLES = ['host', 'clinician', 'patient'];

	const $ = (id) => document.getElementById(id);
	const ui = {
		roomName: $('room-name'),
		state: $('state'),
		banner: $('banner'),
		recording: $('recording'),
		ownQualityWrap: $('own-quality-wrap'),
		ownQualityLabel: $('own-quality-label'),
		joinCard: $('join-card'),
		statusCard: $('status-card'),
		statusSpinner: $('status-spinner'),
		statusTitle: $('status-title'),
		statusText: $('status-text'),
		statusRejoin: $('status-rejoin'),
		call: $('call'),
		stageArea: $('stage-area'),
		presentation: $('presentation'),
		grid: $('grid'),
		side: $('side'),
		waitingList: $('waiting-list'),
		waitingEmpty: $('waiting-empty'),
		waitingCount: $('waiting-count'),
		controls: $('controls'),
		toggleMic: $('toggle-mic'),
		toggleCamera: $('toggle-camera'),
		toggleScreen: $('toggle-screen'),
		toggleAudioOnly: $('toggle-audio-only'),
		toggleDevices: $('toggle-devices'),
		devicePanel: $('device-panel'),
		cameraSelect: $('camera-select'),
		micSelect: $('mic-select'),
		speakerSelect: $('speaker-select'),
		startAudio: $('start-audio'),
		hostControls: $('host-controls'),
		toggleRecording: $('toggle-recording'),
		endRoom: $('end-room'),
		leave: $('leave'),
		consent: $('consent'),
	};
	const ownQuality = Kit.qualityBars();
	$('own-quality').replaceWith(ownQuality);

	/** What tests and curious developers can look at. */
	const demo = { room: null, state: 'idle', error: null, log: [] };
	window.demo = demo;

	const STATE_TEXT = {
		idle: 'Starting',
		connecting: 'Connecting',
		waiting: 'In waiting room',
		joined: 'In consultation',
		reconnecting: 'Reconnecting',
		left: 'Left',
		denied: 'Not admitted',
		kicked: 'Removed',
		'room-closed': 'Ended',
		error: 'Error',
		'no-token': 'No link',
	};

	function setState(state) {
		demo.state = state;
		ui.state.textContent = STATE_TEXT[state] || state;
		ui.state.dataset.state = state;
	}

	let bannerTimer;
	let bannerTopic = '';
	/** Shows a message under the top bar; `topic` lets a later event clear its own message only. */
	function banner(text, kind = 'info', hideAfterMs, topic = '') {
		clearTimeout(bannerTimer);
		bannerTopic = topic;
		ui.banner.textContent = text;
		ui.banner.className = `banner ${kind}`;
		ui.banner.hidden = !text;
		if (hideAfterMs) bannerTimer = setTimeout(() => (ui.banner.hidden = true), hideAfterMs);
	}

	function showError(error, context) {
		const { code, text } = Kit.describeError(error);
		demo.error = { code, message: (error && error.message) || String(error) };
		banner(`${context ? context + ': ' : ''}${text} [${code}]`, 'error');
	}

	function log(entry) {
		demo.log.push(entry);
		if (demo.log.length > 300) demo.log.shift();
	}

	/** A centered card instead of the call: connecting, waiting room, ended. */
	function statusCard(title, text, { spinner = false, rejoin = false } = {}) {
		ui.call.hidden = true;
		ui.controls.hidden = true;
		ui.joinCard.hidden = true;
		ui.statusCard.hidden = false;
		ui.statusTitle.textContent = title;
		ui.statusText.textContent = text;
		ui.statusSpinner.hidden = !spinner;
		ui.statusRejoin.hidden = !rejoin;
	}

	function showCall() {
		ui.statusCard.hidden = true;
		ui.joinCard.hidden = true;
		ui.call.hidden = false;
		ui.controls.hidden = false;
		relayout();
	}

	// --- Tiles ----------------------------------------------------------------------

	/** Tiles by key: a peer id, 'screen:<peerId>' or 'device:<producerId>'. */
	const tiles = new Map();

	function localKey() {
		return 'local';
	}

	function ensureTile(participant, { local = false } = {}) {
		const key = local ? localKey() : participant.id;
		let tile = tiles.get(key);
		if (tile) {
			if (local) tile.dataset.peerId = participant.id; // a rebuilt session has a new peer id
			return tile;
		}
		tile = Kit.createTile({ id: participant.id, name: participant.displayName, role: participant.role, local });
		if (!local && isHost()) {
			const actions = document.createElement('div');
			actions.className = 'host-actions';
			actions.append(
				Kit.button('Mute', () => demo.room.muteParticipant(participant.id, 'microphone'), '', showError),
				Kit.button('Remove', () => demo.room.removeParticipant(participant.id), 'danger', showError),
			);
			tile.append(actions);
		}
		tiles.set(key, tile);
		if (local) ui.grid.prepend(tile);
		else ui.grid.append(tile);
		relayout();
		return tile;
	}

	function removeTile(key) {
		const tile = tiles.get(key);
		if (!tile) return;
		tile.remove();
		tiles.delete(key);
		relayout();
	}

	/** A screen share or a device stream gets its own tile. */
	function extraTile(key, participant, kindLabel, className) {
		let tile = tiles.get(key);
		if (tile) return tile;
		tile = Kit.createTile({ id: participant.id, name: `${participant.displayName} · ${kindLabel}` });
		tile.classList.add(className);
		tile.dataset.key = key;
		tiles.set(key, tile);
		if (className === 'screen') ui.presentation.append(tile);
		else ui.grid.append(tile);
		relayout();
		return tile;
	}

	/** A phone in portrait: the others large, one above the other, this participant's camera small over them. */
	const phoneLayout = window.matchMedia('(max-width: 600px)');

	function relayout() {
		const presenting = ui.presentation.children.length > 0;
		ui.presentation.hidden = !presenting;
		ui.stageArea.classList.toggle('presenting', presenting);
		if (phoneLayout.matches) {
			ui.grid.style.gridTemplateColumns = '';
		} else if (presenting) {
			ui.grid.style.gridTemplateColumns = '1fr';
		} else {
			Kit.fitGrid(ui.grid, ui.grid.children.length);
		}
	}
	window.addEventListener('resize', relayout);
	phoneLayout.addEventListener('change', relayout);
	new ResizeObserver(() => relayout()).observe(ui.stageArea);

	function isHost() {
		return demo.room && demo.room.localParticipant.role === 'host';
	}

	function tileForTrack(track, participant) {
		if (track.source === 'screen' || track.source === 'screen-audio') return extraTile(`screen:${participant.id}`, participant, 'screen', 'screen');
		if (track.source === 'device') return extraTile(`device:${track.producerId}`, participant, 'device stream', 'device');
		return ensureTile(participant);
	}

	function markVideo(tile, track) {
		if (tile) tile.classList.toggle('has-video', !!track && !track.muted);
	}

	// --- Room events ------------------------------------------------------------------

	function wire(room) {
		room.on(RoomEvent.ConnectionStateChanged, (state) => log(`state:${state}`));
		room.on(RoomEvent.WaitingForAdmission, () => {
			setState('waiting');
			statusCard('Waiting to be admitted', 'The clinician has been told you are here and will let you in shortly. Please keep this page open.', { spinner: true });
		});
		room.on(RoomEvent.Admitted, () => {
			setState('connecting');
			statusCard('Admitted', 'Joining the consultation…', { spinner: true });
		});
		room.on(RoomEvent.Reconnecting, (reason) => {
			log(`reconnecting:${reason}`);
			setState('reconnecting');
			banner(
				reason === ReconnectReason.MediaLost
					? 'Audio and video were interrupted. Restoring the connection…'
					: reason === ReconnectReason.ServerMoved
						? 'Moving you to another server… the call continues in a moment.'
						: 'Connection lost. Reconnecting… the call resumes by itself when the network is back.',
				'warn',
			);
		});
		room.on(RoomEvent.Reconnected, ({ resumed, durationMs }) => {
			log(`reconnected:${resumed ? 'resumed' : 'rebuilt'}`);
			setState('joined');
			banner(`Reconnected after ${(durationMs / 1000).toFixed(1)} s.`, 'ok', 4000);
			restoreLocal();
		});
		room.on(RoomEvent.ParticipantJoined, (p) => {
			log(`participantJoined:${p.id}`);
			ensureTile(p);
		});
		room.on(RoomEvent.ParticipantLeft, (p, reason) => {
			log(`participantLeft:${p.id}:${reason}`);
			for (const key of [...tiles.keys()]) if (key === p.id || key === `screen:${p.id}` || tiles.get(key).dataset.peerId === p.id && key !== localKey()) removeTile(key);
		});
		room.on(RoomEvent.TrackSubscribed, (track, p) => {
			log(`trackSubscribed:${p.id}:${track.source}`);
			const tile = tileForTrack(track, p);
			if (track.kind === 'video') {
				track.attach(tile.querySelector('video'));
				markVideo(tile, track);
			} else {
				track.attach(tile.querySelector('audio'));
				if (track.source === 'microphone') Kit.setBadge(tile, 'muted', track.muted);
			}
		});
		room.on(RoomEvent.TrackUnsubscribed, (track, p) => {
			log(`trackUnsubscribed:${p.id}:${track.source}`);
			track.detach();
			if (track.source === 'screen') removeTile(`screen:${p.id}`);
			else if (track.source === 'device') removeTile(`device:${track.producerId}`);
			else if (track.kind === 'video') markVideo(tiles.get(p.id), null);
		});
		room.on(RoomEvent.TrackMuted, (track, p) => onMuteChange(track, p));
		room.on(RoomEvent.TrackUnmuted, (track, p) => onMuteChange(track, p));
		room.on(RoomEvent.TrackSubscriptionFailed, (producerId, error) => showError(error, 'Receiving a track failed'));
		room.on(RoomEvent.MutedByHost, (track) => {
			banner(`The host muted your ${track.source === 'microphone' ? 'microphone' : track.source}. Unmute when you are ready to speak.`, 'info', 6000);
			updateControls();
		});
		room.on(RoomEvent.LocalTrackPublished, updateControls);
		room.on(RoomEvent.LocalTrackUnpublished, (track) => {
			if (track.source === 'screen') removeTile('screen:local');
			updateControls();
		});
		room.on(RoomEvent.ActiveSpeakerChanged, (p) => {
			for (const [key, tile] of tiles) tile.classList.toggle('speaking', !!p && !key.includes(':') && tile.dataset.peerId === p.id);
		});
		room.on(RoomEvent.ConnectionQualityChanged, (quality, p) => {
			const tile = p === room.localParticipant ? tiles.get(localKey()) : tiles.get(p.id);
			if (tile) Kit.setQuality(tile.querySelector('.quality'), quality);
			if (p === room.localParticipant) {
				Kit.setQuality(ownQuality, quality);
				ui.ownQualityLabel.textContent = Kit.QUALITY_TEXT[quality];
				ui.ownQualityWrap.hidden = quality === ConnectionQuality.Unknown;
			}
		});
		room.on(RoomEvent.WaitingListChanged, renderWaitingList);
		room.on(RoomEvent.AudioOnlyChanged, (enabled) => {
			log(`audioOnly:${enabled}`);
			banner(enabled ? 'Audio only: video is paused so the voices keep the connection.' : 'Video is back on.', 'info', 4000);
			updateControls();
		});
		room.on(RoomEvent.AudienceChanged, (viewers) => {
			// Grand rounds (broadcast rooms): presenters see how many are watching.
			$('audience').hidden = false;
			$('audience').textContent = `${viewers} watching`;
		});
		room.on(RoomEvent.AudioPlaybackBlocked, () => {
			ui.startAudio.hidden = false;
			banner('Your browser blocked the sound. Click "Enable sound" to hear the others.', 'info');
		});
		room.on(RoomEvent.RecordingStateChanged, renderRecording);
		room.on(RoomEvent.RecordingStopped, (recording) => {
			if (recording.error) banner(`Recording stopped: ${recording.error.message} [${recording.error.code}]`, 'error');
		});
		room.on(RoomEvent.MediaDevicesChanged, () => void fillDevices());
		room.on(RoomEvent.MediaDevicesError, (error) => showError(error, 'Device'));
		room.on(RoomEvent.Kicked, (reason) => {
			setState('kicked');
			statusCard(reason === 'expired' ? 'Your session expired' : 'You were removed from the consultation', 'Ask the clinic for a new link if this was a mistake.');
		});
		room.on(RoomEvent.RoomClosed, (reason) => {
			setState('room-closed');
			const byHost = room.localParticipant.role === 'host' ? 'The visit has been ended for everyone.' : 'The clinician ended the visit. You can close this page.';
			statusCard('The consultation has ended', reason === 'ended_by_host' ? byHost : `The visit was closed (${reason}).`);
		});
		room.on(RoomEvent.Disconnected, (reason, error) => {
			log(`disconnected:${reason}${error ? ':' + error.code : ''}`);
			for (const key of [...tiles.keys()]) removeTile(key);
			ui.consent.hidden = true;
			ui.recording.hidden = true;
			ui.ownQualityWrap.hidden = true;
			if (reason === DisconnectReason.ClientLeft) {
				setState('left');
				statusCard('You left the consultation', 'You can join again with the same link while the visit lasts.', { rejoin: true });
			} else if (reason === DisconnectReason.Denied) {
				setState('denied');
				statusCard('You were not admitted', 'The clinician declined the request to join. Contact the clinic if you think this is a mistake.');
			} else if (reason === DisconnectReason.Kicked || reason === DisconnectReason.RoomClosed) {
				// Shown by the Kicked / RoomClosed handlers.
			} else {
				setState('error');
				const { code, text } = Kit.describeError(error || { code: reason, message: 'Disconnected' });
				demo.error = { code, message: (error && error.message) || reason };
				statusCard('The connection was lost', `${text} [${code}]`, { rejoin: true });
			}
		});
	}

	function onMuteChange(track, p) {
		const local = p === demo.room.localParticipant;
		const tile = local ? tiles.get(localKey()) : tileForTrack(track, p);
		if (track.kind === 'video') markVideo(tile, track);
		else if (track.source === 'microphone') Kit.setBadge(tile, 'muted', track.muted);
		if (local) updateControls();
	}

	// --- Waiting room (hosts) -----------------------------------------------------------

	function renderWaitingList(peers) {
		ui.waitingList.replaceChildren(
			...peers.map((peer) => {
				const li = document.createElement('li');
				li.dataset.peerId = peer.id;
				const who = document.createElement('span');
				who.className = 'who';
				who.textContent = peer.displayName;
				const role = document.createElement('small');
				role.textContent = peer.role;
				who.append(role);
				li.append(
					who,
					Kit.button('Admit', () => demo.room.admit(peer.id), 'primary', showError),
					Kit.button('Deny', () => demo.room.deny(peer.id), '', showError),
				);
				return li;
			}),
		);
		ui.waitingEmpty.hidden = peers.length > 0;
		ui.waitingCount.hidden = peers.length === 0;
		ui.waitingCount.textContent = String(peers.length);
		if (peers.length > 0 && isHost()) banner(`${peers.length === 1 ? peers[0].displayName + ' is' : peers.length + ' people are'} waiting to be admitted.`, 'info', 8000, 'waiting');
		else if (bannerTopic === 'waiting') banner('', 'info');
	}

	// --- Recording --------------------------------------------------------------------

	const consentAnswered = new Set();

	function renderRecording(recording) {
		const room = demo.room;
		ui.recording.hidden = !recording.active;
		ui.toggleRecording.textContent = recording.active ? 'Stop recording' : 'Record';
		ui.toggleRecording.classList.toggle('off', recording.active);
		const me = room ? room.localParticipant.id : '';
		const ask = recording.active && recording.consentRequired && !recording.recordedPeerIds.includes(me) && !consentAnswered.has(recording.recordingId);
		ui.consent.hidden = !ask;
		ui.consent.dataset.recordingId = recording.recordingId;
	}

	function answerConsent(consent) {
		consentAnswered.add(ui.consent.dataset.recordingId);
		ui.consent.hidden = true;
		demo.room.setRecordingConsent(consent).catch((error) => showError(error, 'Recording consent'));
	}
	$('consent-yes').addEventListener('click', () => answerConsent(true));
	$('consent-no').addEventListener('click', () => answerConsent(false));

	// --- Local media and controls -------------------------------------------------------

	function updateControls() {
		const local = demo.room && demo.room.localParticipant;
		if (!local) return;
		const mic = local.getTrack('microphone');
		const camera = local.getTrack('camera');
		ui.toggleMic.hidden = !mic;
		ui.toggleCamera.hidden = !camera;
		ui.toggleScreen.hidden = !CAMERA_ROLES.includes(local.role);
		if (mic) {
			ui.toggleMic.textContent = mic.muted ? 'Unmute' : 'Mute';
			ui.toggleMic.classList.toggle('off', mic.muted);
		}
		if (camera) {
			ui.toggleCamera.textContent = camera.muted ? 'Start video' : 'Stop video';
			ui.toggleCamera.classList.toggle('off', camera.muted);
		}
		ui.toggleAudioOnly.hidden = !CAMERA_ROLES.includes(local.role);
		ui.toggleAudioOnly.textContent = demo.room.audioOnly ? 'Video on' : 'Audio only';
		ui.toggleAudioOnly.classList.toggle('on', demo.room.audioOnly);
		ui.toggleScreen.textContent = local.isScreenShareEnabled ? 'Stop sharing' : 'Share screen';
		ui.toggleScreen.classList.toggle('on', local.isScreenShareEnabled);
		const tile = tiles.get(localKey());
		if (tile) {
			Kit.setBadge(tile, 'muted', !!mic && mic.muted);
			markVideo(tile, camera || local.getTrack('device'));
		}
	}

	/** Shows this participant's own preview (again, after a rebuilt session). */
	function restoreLocal() {
		const local = demo.room.localParticipant;
		const tile = ensureTile(local, { local: true });
		const preview = local.getTrack('camera') || local.getTrack('device');
		if (preview) preview.attach(tile.querySelector('video'));
		updateControls();
	}

	async function publish(room) {
		const local = room.localParticipant;
		ensureTile(local, { local: true });
		try {
			if (CAMERA_ROLES.includes(local.role)) {
				await local.enableCamera({ simulcast: true });
			} else if (local.role === 'device') {
				// A device-role browser publishes its camera as a clinical device stream (e.g. an endoscope encoder).
				const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
				await local.publishTrack(stream.getVideoTracks()[0], { source: 'device', stopOnUnpublish: true });
			}
		} catch (error) {
			showError(error, 'Camera');
		}
		if (CAMERA_ROLES.includes(local.role)) {
			try {
				await local.enableMicrophone();
			} catch (error) {
				showError(error, 'Microphone');
			}
		}
		restoreLocal();
	}

	async function fillDevices() {
		const room = demo.room;
		try {
			const [cameras, mics, speakers] = await Promise.all(['videoinput', 'audioinput', 'audiooutput'].map((k) => Room.getLocalDevices(k, false)));
			const fill = (select, devices, kind, fallback) => {
				const active = room && room.getActiveDevice(kind);
				select.replaceChildren(
					...devices.map((d, i) => {
						const option = document.createElement('option');
						option.value = d.deviceId;
						option.textContent = d.label || `${fallback} ${i + 1}`;
						option.selected = d.deviceId === active;
						return option;
					}),
				);
				select.disabled = devices.length === 0;
			};
			fill(ui.cameraSelect, cameras, 'videoinput', 'Camera');
			fill(ui.micSelect, mics, 'audioinput', 'Microphone');
			fill(ui.speakerSelect, speakers, 'audiooutput', 'Speaker');
		} catch (error) {
			showError(error, 'Devices');
		}
	}
	for (const [select, kind] of [
		[ui.cameraSelect, 'videoinput'],
		[ui.micSelect, 'audioinput'],
		[ui.speakerSelect, 'audiooutput'],
	]) {
		select.addEventListener('change', () => {
			if (!demo.room) return;
			demo.room
				.switchActiveDevice(kind, select.value)
				.then(() => {
					log(`device:${kind}`);
					restoreLocal();
				})
				.catch((error) => showError(error, 'Switching device'));
		});
	}

	ui.toggleDevices.addEventListener('click', () => {
		ui.devicePanel.hidden = !ui.devicePanel.hidden;
		if (!ui.devicePanel.hidden) void fillDevices();
	});
	ui.toggleMic.addEventListener('click', () => {
		const mic = demo.room && demo.room.localParticipant.getTrack('microphone');
		if (mic) (mic.muted ? mic.unmute() : mic.mute()).catch((e) => showError(e, 'Microphone')).finally(updateControls);
	});
	ui.toggleCamera.addEventListener('click', () => {
		const camera = demo.room && demo.room.localParticipant.getTrack('camera');
		if (camera) (camera.muted ? camera.unmute() : camera.mute()).catch((e) => showError(e, 'Camera')).finally(updateControls);
	});
	ui.toggleScreen.addEventListener('click', () => {
		const local = demo.room && demo.room.localParticipant;
		if (!local) return;
		local
			.setScreenShareEnabled(!local.isScreenShareEnabled)
			.then((track) => {
				if (track) {
					const tile = extraTile('screen:local', local, 'screen (you)', 'screen');
					track.attach(tile.querySelector('video'));
					markVideo(tile, track);
				}
			})
			.catch((e) => showError(e, 'Screen share'))
			.finally(updateControls);
	});
	ui.toggleAudioOnly.addEventListener('click', () => {
		const room = demo.room;
		if (!room) return;
		room
			.setAudioOnly(!room.audioOnly)
			.catch((e) => showError(e, 'Audio only'))
			.finally(updateControls);
	});
	ui.toggleRecording.addEventListener('click', () => {
		const room = demo.room;
		if (!room) return;
		ui.toggleRecording.disabled = true;
		(room.isRecording ? room.stopRecording() : room.startRecording())
			.catch((e) => showError(e, 'Recording'))
			.finally(() => (ui.toggleRecording.disabled = false));
	});
	let endArmed;
	ui.endRoom.addEventListener('click', () => {
		if (!endArmed) {
			// Two clicks, so that nobody ends a visit for everyone by accident.
			ui.endRoom.textContent = 'Click again to end for everyone';
			ui.endRoom.classList.add('danger');
			endArmed = setTimeout(() => {
				endArmed = undefined;
				ui.endRoom.textContent = 'End visit';
				ui.endRoom.classList.remove('danger');
			}, 4000);
			return;
		}
		clearTimeout(endArmed);
		demo.room.endRoom().catch((e) => showError(e, 'End visit'));
	});
	ui.leave.addEventListener('click', () => demo.room && demo.room.leave());
	ui.startAudio.addEventListener('click', () => {
		if (!demo.room) return;
		demo.room.startAudio().then(() => {
			ui.startAudio.hidden = demo.room.audioPlaybackBlocked;
			if (!ui.startAudio.hidden) return;
			banner('', 'info');
		});
	});
	ui.statusRejoin.addEventListener('click', () => location.reload());
	window.addEventListener('pagehide', () => {
		if (demo.room) void demo.room.leave();
	});

	// --- Joining ------------------------------------------------------------------------

	async function onJoined(room) {
		setState('joined');
		showCall();
		ui.side.hidden = room.localParticipant.role !== 'host';
		ui.hostControls.hidden = room.localParticipant.role !== 'host';
		renderWaitingList(room.waitingList);
		renderRecording(room.recording);
		for (const participant of room.participants.values()) ensureTile(participant);
		await publish(room);
		if (!demo.error) banner(`Joined as ${room.localParticipant.displayName || room.localParticipant.role}.`, 'ok', 3000);
	}

	async function join(token, roomId) {
		setState('connecting');
		statusCard('Connecting…', 'Setting up a secure connection to the consultation.', { spinner: true });
		const room = new Room(roomId ? { room: roomId } : {});
		demo.room = room;
		wire(room);
		let joinedOnce = false;
		room.on(RoomEvent.ConnectionStateChanged, (state) => {
			if (state !== ConnectionState.Connected) return;
			if (!joinedOnce) {
				joinedOnce = true;
				void onJoined(room);
			} else if (demo.state !== 'joined') {
				setState('joined');
				showCall();
				restoreLocal();
			}
		});
		try {
			await room.connect(await Kit.signalingUrl(), token);
			ui.roomName.textContent = room.name || '';
		} catch (error) {
			setState('error');
			const { code, text } = Kit.describeError(error);
			demo.error = { code, message: error.message };
			statusCard('Could not join the consultation', `${text} [${code}]`, { rejoin: code === 'connection_failed' });
		}
	}

	async function start() {
		const { roomId, token } = Kit.linkParams();
		ui.roomName.textContent = roomId;
		if (token) {
			await join(token, roomId);
			return;
		}
		if (!(await Kit.devTokensOffered())) {
			setState('no-token');
			statusCard('This link is incomplete', 'Open the consultation link your portal gave you (it ends with #token=…).');
			return;
		}
		setState('idle');
		ui.statusCard.hidden = true;
		ui.joinCard.hidden = false;
		$('join-room').value = roomId || 'demo';
		$('join-form').addEventListener('submit', async (event) => {
			event.preventDefault();
			const room = $('join-room').value.trim();
			try {
				const devToken = await Kit.devToken(room, $('join-role').value, $('join-name').value.trim());
				// Keep the identity across reloads; the fragment never reaches the server.
				history.replaceState(null, '', `${location.pathname}?${new URLSearchParams({ room })}#${new URLSearchParams({ token: devToken })}`);
				ui.roomName.textContent = room;
				await join(devToken, room);
			} catch (error) {
				showError(error, 'Join');
			}
		});
	}

	void start();
})();
