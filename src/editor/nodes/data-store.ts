/**
 * mimoe-backup and mimoe-restore: the same dialog and behaviour for a mim's data store, each with
 * its own catalog. Node-RED needs one registerType per type, so each keeps its own .html.
 */
import { ID } from '../checks';
import { typedField } from '../dialog';
import { runtimeSuggestions } from '../autocomplete';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, namedLabel, NodeEditor, typedDefaults } from './common';

function dataStore(type: 'mimoe-backup' | 'mimoe-restore'): NodeEditor {
  return {
    defaults: () => ({
      name: nameDefault(),
      server: configDefault(),
      ...typedDefaults('mimId', { type, text: ID }),
      ...typedDefaults('path', { type }),
    }),
    behaviour: actionBehaviour(type, {
      label: namedLabel(type, 'mimId', 'id'),
      output: () => 'result',
      oneditprepare() {
        typedField('mimId');
        typedField('path');
        runtimeSuggestions({ input: '#node-input-mimId', server: '#node-input-server', kind: () => 'mims' });
      },
    }),
    template() {
      const form = new Form(type);
      return [
        form.config(),
        form.typed('mimId', 'cube'),
        form.hint('mimId'),
        form.typed('path', 'folder-open-o'),
        form.hint('path'),
        form.name(),
      ];
    },
  };
}

export const backup = dataStore('mimoe-backup');
export const restore = dataStore('mimoe-restore');
