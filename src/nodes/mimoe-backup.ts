/** mimoe-backup: backs up a mim's data store to a path on the mimOE host; msg.payload becomes the final DataStoreResult. */
import { registerDataStoreNode } from './shared/data-store';
import { RED } from './shared/runtime';

export = function (RED: RED) {
  registerDataStoreNode(RED, 'mimoe-backup', 'backup');
};
