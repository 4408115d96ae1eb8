/**
 * mimoe-upload: streams an image tar to the runtime; msg.payload becomes the MimImage.
 * Source: the node's file path, else msg.payload (a Buffer or Readable stream), else msg.filename.
 * Status shows the percentage; an option adds a second output with progress msgs.
 */
import { Readable } from 'node:stream';
import type { UploadProgress } from '../mcm/client';
import { McmError } from '../mcm/errors';
import { isReadable } from '../mcm/validate';
import type { MimImage } from '../mcm/models';
import { registerAction } from './shared/action';
import { RED } from './shared/runtime';
import { STATUS_INTERVAL_MS } from './shared/status';

export = function (RED: RED) {
  registerAction(RED, {
    type: 'mimoe-upload',
    async run(ctx) {
      const { msg } = ctx;
      const payloadIsTar = Buffer.isBuffer(msg.payload) || isReadable(msg.payload);
      // A path set in the node wins; then the tar in msg.payload; then the path in msg.filename.
      const path = await ctx.input('filename', (m) => (payloadIsTar ? undefined : m.filename));
      const source = path ?? msg.payload;
      if (typeof source === 'string' && path === undefined) throw McmError.invalid('uploadImage', 'source-path-in-payload');
      const filename = payloadIsTar && typeof msg.filename === 'string' ? msg.filename.split(/[\\/]/).pop() : undefined;
      let last = 0;
      const onProgress = (progress: UploadProgress) => {
        const now = Date.now();
        // Progress msgs at the pace of status updates, plus the final 100%.
        if (now - last < STATUS_INTERVAL_MS && progress.bytes !== progress.total) return;
        last = now;
        ctx.progress(progress.percentage === undefined ? ctx.t('status.bytes', { bytes: progress.bytes }) : `${progress.percentage}%`);
        if (ctx.config.progressOutput) {
          const { percentage = null, bytes, total = null } = progress;
          ctx.send([null, { _msgid: msg._msgid, topic: msg.topic, payload: { percentage, bytes, total } } as never]);
        }
      };
      return ctx.client.uploadImage(source as string | Buffer | Readable, { ...ctx.call, filename, onProgress });
    },
    summary: (image, ctx) => ctx.t('status.uploaded', { name: (image as MimImage).name }),
  });
};
