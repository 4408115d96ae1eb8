/**
 * The editor code of the mimOE nodes, built by esbuild into resources/mimoe-editor.js (an IIFE
 * that every node's .html loads; Node-RED serves a module's `resources/` folder at
 * `resources/<module-name>/`). It defines `window.MimoeEditor` once, however many node files load
 * it, and puts the stylesheet into the page.
 */
import css from './editor.css';
import { composition } from './nodes/composition';
import { NodeEditor } from './nodes/common';
import { config, fleet } from './nodes/config-nodes';
import { backup, restore } from './nodes/data-store';
import { deploy } from './nodes/deploy';
import { list } from './nodes/list';
import { remove } from './nodes/remove';
import { rollout } from './nodes/rollout';
import { upload } from './nodes/upload';
import { watch } from './nodes/watch';
import { addTemplate } from './rows';

const EDITORS: Record<string, NodeEditor> = {
  'mimoe-config': config,
  'mimoe-fleet': fleet,
  'mimoe-deploy': deploy,
  'mimoe-remove': remove,
  'mimoe-list': list,
  'mimoe-upload': upload,
  'mimoe-composition': composition,
  'mimoe-backup': backup,
  'mimoe-restore': restore,
  'mimoe-watch': watch,
  'mimoe-rollout': rollout,
};

function editorOf(type: string): NodeEditor {
  const editor = EDITORS[type];
  if (!editor) throw new Error(`no editor for the node type ${type}`);
  return editor;
}

/** What a node's .html uses in its registerType literal. */
const api = {
  /** The `defaults` of the type: each registerType literal names them one by one. */
  defaults: (type: string) => editorOf(type).defaults(),
  /**
   * The rest of the type's definition (labels, oneditprepare, ...), as the literal's prototype,
   * and its dialog's template put into the page.
   */
  editor(type: string): NodeBehaviour {
    const editor = editorOf(type);
    addTemplate(type, editor.template());
    return editor.behaviour;
  },
};

declare global {
  interface Window {
    MimoeEditor?: typeof api;
  }
}

if (!window.MimoeEditor) {
  const style = document.createElement('style');
  style.id = 'mimoe-editor-styles';
  style.textContent = css;
  document.head.appendChild(style);
  window.MimoeEditor = api;
}
