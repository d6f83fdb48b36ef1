/*
 * Microphone capture for Heard's call button: mono audio at the context's rate in,
 * 16 kHz PCM16 little-endian out, posted to the page in 20 ms frames.
 */
class HeardMicProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.targetRate = (options.processorOptions || {}).targetRate || 16000;
    this.step = sampleRate / this.targetRate;  // input samples per output sample
    this.position = 0;                         // where the next output sample falls
    this.frame = new Int16Array(this.targetRate / 50);
    this.filled = 0;
    this.sum = 0;
    this.count = 0;
  }

  // Averaging the input samples that fall into each output sample is a cheap low-pass
  // filter, enough to keep speech free of aliasing for recognition.
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.count += 1;
      this.position += 1;
      if (this.position >= this.step) {
        this.position -= this.step;
        this.push(this.sum / this.count);
        this.sum = 0;
        this.count = 0;
      }
    }
    return true;
  }

  push(sample) {
    const clipped = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    if (this.filled === this.frame.length) {
      const out = this.frame.slice().buffer;  // Int16Array is little-endian on every browser platform
      this.port.postMessage(out, [out]);
      this.filled = 0;
    }
  }
}

registerProcessor("heard-mic", HeardMicProcessor);
