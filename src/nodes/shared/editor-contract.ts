/**
 * What the editor's bundle and the admin routes (editor-api.ts) must agree on. Nothing here needs
 * Node.js or Node-RED: src/editor imports this module into the browser.
 */

/** Node-RED sends this in place of a stored password the editor never sees. */
export const PASSWORD_PLACEHOLDER = '__PWRD__';

/** The config node's settings the editor may post; anything else in the body is ignored. */
export const EDITOR_SETTINGS = [
  'url',
  'clientId',
  'timeout',
  'concurrency',
  'resource',
  'tls',
  'insecure',
  'tokenSource',
  'keyFile',
  'answerTimeout',
  'lowSpeedBytes',
  'lowSpeedWindow',
  'proxy',
] as const;
