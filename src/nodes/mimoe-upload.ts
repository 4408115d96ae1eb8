/**
 * mimoe-upload: streams an image tar to the runtime; msg.payload becomes the MimImage.
 * Source: the node's file path, else msg.payload (a Buffer or Readable stream), else msg.filename.
 * Status shows the percentage; an option adds a second output with progress msgs.
 */
import { Readable } from 'node:stream';
import type { UploadProgress } from '../mcm/client';
import type { MimImage } from '../mcm/models';
import { registerAction } from './shared/action';
import { uploadInput } from './shared/inputs';
import { RED } from './shared/runtime';
import { STATUS_INTERVAL_MS } from './shared/status';

export = function (RED: RED) {
  registerAction(RED, {
    type: 'mimoe-upload',
    async run(ctx) {
      const { msg } = ctx;
      const { source, filename } = await uploadInput(ctx.input, msg);
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
