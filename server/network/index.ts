export { isTurnUrl, turnRestCredential, TurnCredentials, type IceServer, type TurnCredentialsOptions } from './TurnCredentials.js';
export { parseWebRtcAddress, webRtcListenInfos, type WebRtcAddress, type WebRtcPorts } from './listenInfos.js';
