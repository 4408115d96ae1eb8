/** mimoe-restore: restores a mim's data store from a backup path on the mimOE host; msg.payload becomes the final DataStoreResult. */
import { registerDataStoreNode } from './shared/data-store';
import { RED } from './shared/runtime';

export = function (RED: RED) {
  registerDataStoreNode(RED, 'mimoe-restore', 'restore');
};
