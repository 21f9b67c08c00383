// sharp (libvips) doing the job bytea_blur does: decode, Gaussian blur, encode in the input's
// format (or in FORMAT: webp or avif), on one thread, as a Node application would. Its defaults are a
// user's: blur(sigma) (libvips' gaussblur), JPEG 4:2:0 with optimised Huffman tables, PNG
// compression level 6, WebP lossy at quality with effort 4 (libwebp's method 4), AVIF at
// quality with effort 4 and 4:2:0 chroma (as bytea_blur writes a JPEG's blur as AVIF; sharp's
// own default is 4:4:4);
// keepIccProfile(), since bytea_blur keeps a photo's ICC profile too (sharp would otherwise
// convert to sRGB and drop it: fewer bytes for a different job).
//   node sharp_blur.js SHARP_DIR IMAGE SIGMA QUALITY RUNS OUTPUT [FORMAT]
// Prints "MEDIAN_MS BYTES" and writes the last output to OUTPUT.
'use strict';
const fs = require('fs');
const path = require('path');
const [sharpDir, image, sigma, quality, runs, output, target] = process.argv.slice(2);
const sharp = require(path.join(sharpDir, 'node_modules', 'sharp'));
sharp.concurrency(1);
sharp.cache(false);
const input = fs.readFileSync(image);

let format;
async function once() {
  const pipeline = sharp(input).blur(Number(sigma)).keepIccProfile();
  const encoded = format === 'webp' ? pipeline.webp({ quality: Number(quality) })
    : format === 'avif' ? pipeline.avif({ quality: Number(quality), chromaSubsampling: '4:2:0' })
    : format === 'png' ? pipeline.png() : pipeline.jpeg({ quality: Number(quality) });
  return encoded.toBuffer();
}

(async () => {
  // sharp names an AVIF's format 'heif' (the container), whose writer for AV1 is avif()
  const own = (await sharp(input).metadata()).format;
  format = target || (own === 'heif' ? 'avif' : own);
  let out = await once(); // warm
  const times = [];
  for (let i = 0; i < Number(runs); i++) {
    const start = process.hrtime.bigint();
    out = await once();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  fs.writeFileSync(output, out);
  console.log(`${times[Math.floor(times.length / 2)].toFixed(2)} ${out.length}`);
})();
