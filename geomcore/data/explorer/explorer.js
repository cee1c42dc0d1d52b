// The geomcore explorer: replays a recorded run in the browser, frame by frame.
// Written into each page by geomcore/explore.py, with the run's data as JSON beside it.
// Every frame is a real network: the weights at progress u come from the video's cubic spline
// (coefficients computed by scipy, evaluated here), u -> snapshot s from the video's PCHIP
// warp, and the forward pass uses Keras's row-vector convention h = act(x @ kernel + bias).
// Plain JS and canvas, no library, nothing loaded from outside.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("geomcore-data").textContent);

  // -- data ---------------------------------------------------------------------------------
  // Float arrays arrive as base64 of little-endian float64 (every browser's byte order).
  function f64(b64) {
    const s = atob(b64);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return new Float64Array(bytes.buffer);
  }
  const S = D.snapshots;
  const NP = D.parameters;
  const W = f64(D.weights); // (4, S - 1, NP): piecewise cubic in the snapshot index
  const FINAL = f64(D.final); // the last snapshot's recorded weights
  const EPOCHS = f64(D.epochs);
  const LOSS = f64(D.loss);
  const ACC = f64(D.accuracy);
  const PROBE = f64(D.probe); // (P, 2), data units
  const P = D.labels.length;
  const LABELS = D.labels;
  const GRID_FULL = f64(D.grid); // (G, M0, 2), data units
  const [G, M0] = D.gridShape;
  // The grid drawn in a hidden layer: at most about 100 samples a line (the video's 3-D view
  // takes every 4th), both ends kept.
  const GRID_STRIDE = Math.max(1, Math.ceil((M0 - 1) / 100));
  const GRID_SAMPLES = [];
  for (let m = 0; m < M0 - 1; m += GRID_STRIDE) GRID_SAMPLES.push(m);
  GRID_SAMPLES.push(M0 - 1);
  const M = GRID_SAMPLES.length;
  const GRID = new Float64Array(G * M * 2);
  for (let g = 0; g < G; g++) {
    for (let m = 0; m < M; m++) {
      GRID[2 * (g * M + m)] = GRID_FULL[2 * (g * M0 + GRID_SAMPLES[m])];
      GRID[2 * (g * M + m) + 1] = GRID_FULL[2 * (g * M0 + GRID_SAMPLES[m]) + 1];
    }
  }
  const NAMES = D.layerNames;
  const WIDTHS = D.widths;
  const HIDDEN = NAMES.slice(0, -1);
  const VIEWS = {};
  for (const v of D.views) VIEWS[v.name] = v;
  const CLOCKS = {};
  for (const name of HIDDEN) {
    CLOCKS[name] = { x: f64(D.clocks[name].x), c: f64(D.clocks[name].c) };
  }
  const COLORS = D.colors;

  // tanh is computed as 1 - 2 / (exp(2z) + 1): within 1e-15 of Math.tanh (absolute) and
  // several times faster in V8, which keeps scrubbing above 30 frames/s; tanh(20) is 1 in
  // float64. sigmoid as geomcore.geometry.sigmoid, without overflow.
  // Offsets of each layer's kernel (fan_in x units, row-major) and bias in a weight vector.
  const OFFSETS = [];
  {
    let off = 0;
    let fan = 2;
    for (const w of WIDTHS) {
      OFFSETS.push(off);
      off += fan * w + w;
      fan = w;
    }
  }
  const FAN_IN = WIDTHS.map((w, l) => (l === 0 ? 2 : WIDTHS[l - 1]));

  function layerIndex(layer) {
    const i = NAMES.indexOf(layer);
    if (i < 0 && layer !== "input") throw new Error(`no layer ${layer}; expected one of ${NAMES}`);
    return i;
  }

  // -- clocks: u -> s (PCHIP, as scipy evaluates a PPoly), s -> weights (cubic spline) -------
  function interval(x, v) {
    // scipy's PPoly: x[i] <= v < x[i+1], the last interval for v at or past the end.
    let lo = 0;
    let hi = x.length - 2;
    if (v < x[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (x[mid] <= v) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function warp(layer, u) {
    const clock = CLOCKS[layer];
    const n = clock.x.length - 1;
    const i = interval(clock.x, u);
    const dx = u - clock.x[i];
    const c = clock.c;
    return c[i] * dx * dx * dx + c[n + i] * dx * dx + c[2 * n + i] * dx + c[3 * n + i];
  }

  function snapshotAt(u, layer) {
    u = Math.min(Math.max(Number(u), 0), 1);
    return Math.min(Math.max(warp(layer, u), 0), S - 1);
  }

  function progressAt(s, layer) {
    // The inverse of the warp, by bisection as geomcore.replay.Replay.progress_at.
    s = Math.min(Math.max(s, 0), S - 1);
    const i = Math.min(Math.floor(s), S - 2);
    const x = CLOCKS[layer].x;
    let lo = x[i];
    let hi = x[i + 1];
    for (let k = 0; k < 60; k++) {
      const mid = 0.5 * (lo + hi);
      if (warp(layer, mid) < s) lo = mid;
      else hi = mid;
    }
    return 0.5 * (lo + hi);
  }

  function weightsAt(s) {
    s = Math.min(Math.max(s, 0), S - 1);
    const n = S - 1;
    const w = new Float64Array(NP);
    if (Number.isInteger(s)) {
      // At a snapshot: exactly the recorded weights (the spline's constant term there).
      if (s === S - 1) return FINAL.slice();
      for (let p = 0; p < NP; p++) w[p] = W[(3 * n + s) * NP + p];
      return w;
    }
    const i = Math.min(Math.floor(s), S - 2);
    const dx = s - i;
    const dx2 = dx * dx;
    const dx3 = dx2 * dx;
    for (let p = 0; p < NP; p++) {
      w[p] = W[i * NP + p] * dx3 + W[(n + i) * NP + p] * dx2 + W[(2 * n + i) * NP + p] * dx
        + W[(3 * n + i) * NP + p];
    }
    return w;
  }

  function lerpAt(values, s) {
    const i = Math.min(Math.floor(s), S - 2);
    const t = s - i;
    return (1 - t) * values[i] + t * values[i + 1];
  }

  // -- the forward pass ----------------------------------------------------------------------
  const CODES = { tanh: 0, sigmoid: 1, relu: 2, linear: 3, abs: 4 };
  const ACT_CODE = D.activations.map((a) => {
    if (!(a in CODES)) throw new Error(`unknown activation ${a}`);
    return CODES[a];
  });
  const MAX_WIDTH = Math.max(2, ...WIDTHS);
  const SCRATCH = [new Float64Array(MAX_WIDTH), new Float64Array(MAX_WIDTH)];

  // pts: Float64Array (n * 2) in data units; returns layer `upto`'s outputs (n * units),
  // or its pre-activation when `logit` is set (the output unit's logit). Point by point
  // through every layer (no intermediate arrays); the sums run in the order numpy's
  // ``h @ kernel + bias`` does: products over the inputs, then the bias.
  function forward(w, pts, n, upto, logit) {
    const units = WIDTHS[upto];
    const result = new Float64Array(n * units);
    for (let r = 0; r < n; r++) {
      let cur = SCRATCH[0];
      let nxt = SCRATCH[1];
      cur[0] = pts[2 * r];
      cur[1] = pts[2 * r + 1];
      for (let l = 0; l <= upto; l++) {
        const fan = FAN_IN[l];
        const out = WIDTHS[l];
        const k0 = OFFSETS[l];
        const b0 = k0 + fan * out;
        const code = logit && l === upto ? 3 : ACT_CODE[l];
        for (let j = 0; j < out; j++) {
          let z = 0;
          for (let i = 0; i < fan; i++) z += cur[i] * w[k0 + i * out + j];
          z += w[b0 + j];
          switch (code) {
            case 0: nxt[j] = z > 20 ? 1 : z < -20 ? -1 : 1 - 2 / (Math.exp(2 * z) + 1); break;
            case 1: nxt[j] = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
              break;
            case 2: nxt[j] = Math.max(z, 0); break;
            case 4: nxt[j] = Math.abs(z); break;
            default: nxt[j] = z;
          }
        }
        const t = cur;
        cur = nxt;
        nxt = t;
      }
      for (let j = 0; j < units; j++) result[r * units + j] = cur[j];
    }
    return result;
  }

  // -- marching squares of the logit over the input box --------------------------------------
  const RES = 128; // logit samples per axis of the input box
  const BOX = D.bounds; // xmin, xmax, ymin, ymax
  const LOGIT_PTS = new Float64Array(RES * RES * 2);
  for (let j = 0; j < RES; j++) {
    for (let i = 0; i < RES; i++) {
      LOGIT_PTS[2 * (j * RES + i)] = BOX[0] + ((BOX[1] - BOX[0]) * i) / (RES - 1);
      LOGIT_PTS[2 * (j * RES + i) + 1] = BOX[2] + ((BOX[3] - BOX[2]) * j) / (RES - 1);
    }
  }

  // Cell cases of marching squares: pairs of crossed edges (0 bottom, 1 right, 2 top,
  // 3 left), by the corners above zero (1: (i, j), 2: (i+1, j), 4: (i+1, j+1), 8: (i, j+1)).
  const CASES = [[], [0, 3], [0, 1], [1, 3], [1, 2], null, [0, 2], [2, 3],
    [2, 3], [0, 2], null, [1, 2], [1, 3], [0, 1], [0, 3], []];
  const SEG = { buf: new Float64Array(4096), n: 0 };

  function pushPoint(x, y) {
    if (SEG.n + 2 > SEG.buf.length) {
      const bigger = new Float64Array(2 * SEG.buf.length);
      bigger.set(SEG.buf);
      SEG.buf = bigger;
    }
    SEG.buf[SEG.n++] = x;
    SEG.buf[SEG.n++] = y;
  }

  function pushEdge(edge, a, b, c, d, x0, y0, dx, dy) {
    if (edge === 0) pushPoint(x0 + (a / (a - b)) * dx, y0);
    else if (edge === 1) pushPoint(x0 + dx, y0 + (b / (b - c)) * dy);
    else if (edge === 2) pushPoint(x0 + (d / (d - c)) * dx, y0 + dy);
    else pushPoint(x0, y0 + (a / (a - d)) * dy);
  }

  function boundarySegments(v) {
    // v: logit at the RES x RES samples; returns Float64Array of (x1, y1, x2, y2) segments,
    // the zero set by marching squares with linear interpolation along cell edges.
    SEG.n = 0;
    const dx = (BOX[1] - BOX[0]) / (RES - 1);
    const dy = (BOX[3] - BOX[2]) / (RES - 1);
    for (let j = 0; j < RES - 1; j++) {
      for (let i = 0; i < RES - 1; i++) {
        const a = v[j * RES + i];
        const b = v[j * RES + i + 1];
        const c = v[(j + 1) * RES + i + 1];
        const d = v[(j + 1) * RES + i];
        const k = (a > 0 ? 1 : 0) | (b > 0 ? 2 : 0) | (c > 0 ? 4 : 0) | (d > 0 ? 8 : 0);
        if (k === 0 || k === 15) continue;
        const x0 = BOX[0] + i * dx;
        const y0 = BOX[2] + j * dy;
        let edges = CASES[k];
        if (edges === null) {
          // A saddle: the cell's mean decides which corners connect.
          const centre = 0.25 * (a + b + c + d) > 0;
          edges = (k === 5) === centre ? [0, 1, 2, 3] : [0, 3, 1, 2];
        }
        for (let e = 0; e < edges.length; e++) pushEdge(edges[e], a, b, c, d, x0, y0, dx, dy);
      }
    }
    return SEG.buf.slice(0, SEG.n);
  }

  // -- one frame: everything drawn at progress u in the viewed layer --------------------------
  function computeFrame(u, layer) {
    const s = snapshotAt(u, layer);
    const w = weightsAt(s);
    const li = layerIndex(layer);
    const probe = forward(w, PROBE, P, li, false);
    const grid = forward(w, GRID, G * M, li, false);
    const logit = forward(w, LOGIT_PTS, RES * RES, NAMES.length - 1, true);
    const segs = boundarySegments(logit);
    const segImage = forward(w, segs, segs.length / 2, li, false);
    return {
      u, s, layer, w, probe, grid, logit, segs, segImage,
      epoch: lerpAt(EPOCHS, s), loss: lerpAt(LOSS, s), accuracy: lerpAt(ACC, s),
    };
  }

  // -- drawing -------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const inputCanvas = $("input");
  const hiddenCanvas = $("hidden");
  const curvesCanvas = $("curves");
  const PAD = 14;

  function setupCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width;
    const h = canvas.clientHeight || canvas.height;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w, h };
  }
  const IN = setupCanvas(inputCanvas);
  // The probe points of the input plane never move: drawn once, on a canvas above it.
  const IN_POINTS = setupCanvas($("input-points"));
  const HID = setupCanvas(hiddenCanvas);
  const CUR = setupCanvas(curvesCanvas);

  function squareMap(cx, cy, half, size) {
    // Data or layer units -> canvas pixels, a square box of half-side `half` around (cx, cy).
    const scale = (0.5 * size - PAD) / half;
    return (x, y) => [0.5 * size + (x - cx) * scale, 0.5 * size - (y - cy) * scale];
  }
  const inputMap = squareMap(0.5 * (BOX[0] + BOX[1]), 0.5 * (BOX[2] + BOX[3]),
    0.5 * Math.max(BOX[1] - BOX[0], BOX[3] - BOX[2]), IN.w);

  const camera = { azimuth: -60, elevation: 22 };

  function viewMap(layer, projected) {
    // Layer units (a row of `width` numbers) -> canvas pixels of the hidden view; with
    // `projected`, rows already in the view's 3 principal components (the cube, the labels).
    const v = VIEWS[layer];
    const size = HID.w;
    if (v.kind === "plane" || v.kind === "line") {
      const m = squareMap(v.center[0], v.kind === "line" ? 0 : v.center[1], v.half, size);
      return (h, o) => m(h[o], v.kind === "line" ? 0 : h[o + 1]);
    }
    // Orthographic camera orbiting the origin, as geomcore.anatomy.orbit_camera.
    const az = (camera.azimuth * Math.PI) / 180;
    const el = (camera.elevation * Math.PI) / 180;
    const right = [-Math.sin(az), Math.cos(az), 0];
    const toward = [Math.cos(el) * Math.cos(az), Math.cos(el) * Math.sin(az), Math.sin(el)];
    const up = [
      toward[1] * right[2] - toward[2] * right[1],
      toward[2] * right[0] - toward[0] * right[2],
      toward[0] * right[1] - toward[1] * right[0],
    ];
    const scale = (0.5 * size - PAD) / (Math.sqrt(3) * v.half);
    const c = v.center;
    const comps = projected ? null : v.components;
    const k = v.width;
    const q = [0, 0, 0];
    return (h, o) => {
      if (comps) {
        for (let r = 0; r < 3; r++) {
          let z = 0;
          for (let i = 0; i < k; i++) z += (h[o + i] - v.mean[i]) * comps[r][i];
          q[r] = z - c[r];
        }
      } else {
        for (let r = 0; r < 3; r++) q[r] = h[o + r] - c[r];
      }
      const x = q[0] * right[0] + q[1] * right[1] + q[2] * right[2];
      const y = q[0] * up[0] + q[1] * up[1] + q[2] * up[2];
      return [0.5 * size + x * scale, 0.5 * size - y * scale];
    };
  }

  function drawPolylines(ctx, pts, lines, samples, width, map, color, alpha, lineWidth) {
    ctx.save();
    ctx.strokeStyle = color;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    for (let g = 0; g < lines; g++) {
      for (let m = 0; m < samples; m++) {
        const [x, y] = map(pts, (g * samples + m) * width);
        if (m === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
    }
    ctx.stroke();
    ctx.restore();
  }

  function drawSegments(ctx, pts, width, map, color, lineWidth) {
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.lineCap = "round";
    ctx.beginPath();
    const n = pts.length / width / 2;
    for (let i = 0; i < n; i++) {
      const [x1, y1] = map(pts, 2 * i * width);
      const [x2, y2] = map(pts, (2 * i + 1) * width);
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
    }
    ctx.stroke();
    ctx.restore();
  }

  const RADIUS = 2.4;
  let drawn = { input: null, hidden: null }; // screen positions of the probe points

  function hexRgb(hex) {
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }

  function drawPoints(ctx, pts, width, map) {
    // One path per class. A dot's radius exceeds the half-diagonal of a pixel, so the pixel
    // under each point's centre is entirely its class colour.
    const screen = new Float64Array(2 * P);
    for (let i = 0; i < P; i++) {
      const [x, y] = map(pts, i * width);
      screen[2 * i] = x;
      screen[2 * i + 1] = y;
    }
    for (const cls of [0, 1]) {
      ctx.fillStyle = COLORS.class[cls];
      ctx.beginPath();
      for (let i = 0; i < P; i++) {
        if (LABELS[i] !== cls) continue;
        const x = screen[2 * i];
        const y = screen[2 * i + 1];
        if (!(Math.abs(x) < 1e5 && Math.abs(y) < 1e5)) continue; // far off-canvas, not finite
        ctx.moveTo(x + RADIUS, y);
        ctx.arc(x, y, RADIUS, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    return screen;
  }

  const CLASS_RGB = COLORS.class.map(hexRgb);
  const regions = document.createElement("canvas");
  regions.width = RES;
  regions.height = RES;
  const regionsCtx = regions.getContext("2d");
  const regionsImage = regionsCtx.createImageData(RES, RES);

  let inputGridCanvas = null;
  function inputGrid() {
    // The input plane's grid does not move: drawn once, then copied every frame.
    if (inputGridCanvas === null) {
      inputGridCanvas = document.createElement("canvas");
      inputGridCanvas.width = inputCanvas.width;
      inputGridCanvas.height = inputCanvas.height;
      const ctx = inputGridCanvas.getContext("2d");
      const dpr = inputCanvas.width / IN.w;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawPolylines(ctx, GRID, G, M, 2, (a, o) => inputMap(a[o], a[o + 1]), COLORS.grid, 0.35, 1);
    }
    return inputGridCanvas;
  }

  function drawInput(f) {
    const { ctx, w, h } = IN;
    ctx.clearRect(0, 0, w, h);
    // Decision regions, faintly: the class the network answers at each logit sample.
    const px = regionsImage.data;
    for (let j = 0; j < RES; j++) {
      for (let i = 0; i < RES; i++) {
        const rgb = CLASS_RGB[f.logit[j * RES + i] > 0 ? 1 : 0];
        const o = 4 * ((RES - 1 - j) * RES + i); // image rows run downwards
        px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 38;
      }
    }
    regionsCtx.putImageData(regionsImage, 0, 0);
    const [x0, y0] = inputMap(BOX[0], BOX[3]);
    const [x1, y1] = inputMap(BOX[1], BOX[2]);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(regions, x0, y0, x1 - x0, y1 - y0);
    const map2 = (a, o) => inputMap(a[o], a[o + 1]);
    ctx.drawImage(inputGrid(), 0, 0, w, h);
    drawSegments(ctx, f.segs, 2, map2, COLORS.boundary, 3);
    if (drawn.input === null) drawn.input = drawPoints(IN_POINTS.ctx, PROBE, 2, map2);
  }

  function clipLine(a, b, c, box) {
    // The line a u + b v + c = 0 inside box, in general form (geometry.clip_line_to_box).
    const norm = Math.hypot(a, b);
    if (!Number.isFinite(norm) || !Number.isFinite(c) || norm <= 1e-12 * Math.max(1, Math.abs(c))) {
      return null;
    }
    a /= norm; b /= norm; c /= norm;
    const d = [-b, a];
    const p0 = [-a * c, -b * c];
    let lo = -Infinity;
    let hi = Infinity;
    const lims = [[box[0], box[1]], [box[2], box[3]]];
    for (let k = 0; k < 2; k++) {
      const [mn, mx] = lims[k];
      if (Math.abs(d[k]) < 1e-15) {
        if (!(mn <= p0[k] && p0[k] <= mx)) return null;
        continue;
      }
      const s1 = (mn - p0[k]) / d[k];
      const s2 = (mx - p0[k]) / d[k];
      lo = Math.max(lo, Math.min(s1, s2));
      hi = Math.min(hi, Math.max(s1, s2));
    }
    if (lo > hi) return null;
    return [p0[0] + lo * d[0], p0[1] + lo * d[1], p0[0] + hi * d[0], p0[1] + hi * d[1]];
  }

  // The decision surface in a 3-unit layer followed by a 3 -> 2 tanh layer and the output
  // unit, as geomcore.anatomy.decision_surface: the ruled surface of the preimages h0 + s n
  // of the decision line's points u (h @ W = artanh(u) - b), clipped to the cube [-1, 1]^3.
  const SURFACE_SAMPLES = 30;
  function hasSurface(layer) {
    const L = NAMES.length;
    return L >= 3 && layer === NAMES[L - 3] && WIDTHS[L - 3] === 3 && WIDTHS[L - 2] === 2
      && D.activations[L - 2] === "tanh" && !VIEWS[layer].components;
  }

  function decisionSurface(w, samples = SURFACE_SAMPLES, cube = 1.0, margin = 1e-3) {
    const L = NAMES.length;
    const k0 = OFFSETS[L - 2];
    const W = [[w[k0], w[k0 + 1]], [w[k0 + 2], w[k0 + 3]], [w[k0 + 4], w[k0 + 5]]]; // (3, 2)
    const bias = [w[k0 + 6], w[k0 + 7]];
    const o = OFFSETS[L - 1];
    const lim = 1 - margin;
    const seg = clipLine(w[o], w[o + 1], w[o + 2], [-lim, lim, -lim, lim]);
    if (!seg) return null;
    const c0 = [W[0][0], W[1][0], W[2][0]];
    const c1 = [W[0][1], W[1][1], W[2][1]];
    const n = [c0[1] * c1[2] - c0[2] * c1[1], c0[2] * c1[0] - c0[0] * c1[2],
      c0[0] * c1[1] - c0[1] * c1[0]];
    const norm = Math.hypot(n[0], n[1], n[2]);
    if (norm < 1e-12) return null;
    for (let r = 0; r < 3; r++) n[r] /= norm;
    // pinv(W) = (W^T W)^-1 W^T for a kernel of full column rank (n != 0): shape (2, 3).
    const g00 = c0[0] * c0[0] + c0[1] * c0[1] + c0[2] * c0[2];
    const g01 = c0[0] * c1[0] + c0[1] * c1[1] + c0[2] * c1[2];
    const g11 = c1[0] * c1[0] + c1[1] * c1[1] + c1[2] * c1[2];
    const det = g00 * g11 - g01 * g01;
    const inv = [[g11 / det, -g01 / det], [-g01 / det, g00 / det]];
    const pinv = [0, 1].map((i) => [0, 1, 2].map((r) => inv[i][0] * c0[r] + inv[i][1] * c1[r]));
    const h0 = [];
    const lo = [];
    const hi = [];
    const valid = [];
    for (let i = 0; i < samples; i++) {
      const t = i / (samples - 1);
      const u = [seg[0] + t * (seg[2] - seg[0]), seg[1] + t * (seg[3] - seg[1])];
      const z = [Math.atanh(u[0]) - bias[0], Math.atanh(u[1]) - bias[1]];
      const h = [0, 1, 2].map((r) => z[0] * pinv[0][r] + z[1] * pinv[1][r]);
      let a = -Infinity;
      let b = Infinity;
      let ok = true;
      for (let r = 0; r < 3; r++) {
        if (Math.abs(n[r]) > 1e-12) {
          const s1 = (-cube - h[r]) / n[r];
          const s2 = (cube - h[r]) / n[r];
          a = Math.max(a, Math.min(s1, s2));
          b = Math.min(b, Math.max(s1, s2));
        } else if (Math.abs(h[r]) > cube) {
          ok = false;
        }
      }
      h0.push(h); lo.push(a); hi.push(b); valid.push(ok && a <= b);
    }
    const good = valid.map((v, i) => (v ? i : -1)).filter((i) => i >= 0);
    if (good.length === 0) return null;
    const out = new Float64Array(samples * samples * 3);
    for (let i = 0; i < samples; i++) {
      // A ruling that misses the cube repeats the nearest one that meets it.
      let near = good[0];
      for (const g of good) if (Math.abs(g - i) < Math.abs(near - i)) near = g;
      for (let j = 0; j < samples; j++) {
        const s = lo[near] + (j / (samples - 1)) * (hi[near] - lo[near]);
        for (let r = 0; r < 3; r++) out[3 * (i * samples + j) + r] = h0[near][r] + s * n[r];
      }
    }
    return out;
  }

  function drawSurface(ctx, surface, map) {
    // About 12 rulings and 6 lines across, as geomcore.extents.surface_wireframe.
    const R = SURFACE_SAMPLES;
    const rows = Math.max(1, Math.floor(R / 12));
    const cols = Math.max(1, Math.floor(R / 6));
    ctx.save();
    ctx.strokeStyle = COLORS.boundary;
    ctx.globalAlpha = 0.75;
    ctx.lineWidth = 1.4;
    ctx.beginPath();
    for (let i = 0; i < R; i += rows) {
      for (let j = 0; j < R; j++) {
        const [x, y] = map(surface, 3 * (i * R + j));
        if (j === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
    }
    for (let j = 0; j < R; j += cols) {
      for (let i = 0; i < R; i++) {
        const [x, y] = map(surface, 3 * (i * R + j));
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
    }
    ctx.stroke();
    ctx.restore();
  }

  function cubeEdges(v) {
    const out = [];
    const c = v.center;
    const h = v.half;
    for (let axis = 0; axis < 3; axis++) {
      for (const s1 of [-1, 1]) {
        for (const s2 of [-1, 1]) {
          const a = [0, 0, 0];
          const b = [0, 0, 0];
          const [o1, o2] = [0, 1, 2].filter((k) => k !== axis);
          a[axis] = c[axis] - h; b[axis] = c[axis] + h;
          a[o1] = b[o1] = c[o1] + s1 * h;
          a[o2] = b[o2] = c[o2] + s2 * h;
          out.push(...a, ...b);
        }
      }
    }
    return new Float64Array(out);
  }

  function drawHidden(f) {
    const { ctx, w, h } = HID;
    ctx.clearRect(0, 0, w, h);
    const v = VIEWS[f.layer];
    const k = v.width;
    const map = viewMap(f.layer);
    const li = layerIndex(f.layer);
    if (v.kind === "space") {
      // The cube around the layer's points is drawn in the viewed (projected) coordinates.
      const cube = cubeEdges(v);
      const cmap = viewMap(f.layer, true);
      drawSegments(ctx, cube, 3, cmap, COLORS.grid, 1);
      // The three edges from the cube's lowest corner are its axes, named at their ends.
      const names = v.components ? ["pc1", "pc2", "pc3"] : ["h1", "h2", "h3"];
      const corner = v.center.map((c) => c - v.half);
      const axes = [];
      for (let r = 0; r < 3; r++) {
        const end = corner.slice();
        end[r] += 2 * v.half;
        axes.push(...corner, ...end);
      }
      drawSegments(ctx, new Float64Array(axes), 3, cmap, COLORS.text, 1.5);
      ctx.fillStyle = COLORS.text;
      ctx.font = "13px DejaVu Sans, sans-serif";
      ctx.textAlign = "center";
      for (let r = 0; r < 3; r++) {
        const end = corner.slice();
        end[r] += 2.18 * v.half;
        const [x, y] = cmap(end, 0);
        ctx.fillText(names[r], x, y + 4);
      }
      ctx.textAlign = "left";
    } else {
      const [x0, y0] = map(new Float64Array([v.center[0] - v.half, v.center[1] + v.half]), 0);
      ctx.save();
      ctx.strokeStyle = COLORS.grid;
      ctx.globalAlpha = 0.6;
      ctx.strokeRect(x0, y0, w - 2 * x0, h - 2 * y0);
      ctx.restore();
    }
    drawPolylines(ctx, f.grid, G, M, k, map, COLORS.grid, 0.55, 1);
    if (li === NAMES.length - 2 && k === 2) {
      // The decision line a h1 + b h2 + c = 0 of the output unit, clipped to the view.
      const o = OFFSETS[NAMES.length - 1];
      const box = [v.center[0] - v.half, v.center[0] + v.half,
        v.center[1] - v.half, v.center[1] + v.half];
      const seg = clipLine(f.w[o], f.w[o + 1], f.w[o + 2], box);
      if (seg) {
        ctx.save();
        ctx.setLineDash([7, 5]);
        drawSegments(ctx, new Float64Array(seg), 2, map, COLORS.boundary, 2.5);
        ctx.restore();
      }
    }
    if (hasSurface(f.layer)) {
      const surface = decisionSurface(f.w);
      if (surface) drawSurface(ctx, surface, map);
    }
    drawSegments(ctx, f.segImage, k, map, COLORS.boundary, 3);
    drawn.hidden = drawPoints(ctx, f.probe, k, map);
  }

  // The curves do not change: drawn once on a canvas of their own, copied every frame
  // under the moving cursor.
  const CURVE_BOX = { left: 46, right: CUR.w - 46, top: 12, bottom: CUR.h - 22 };
  const E0 = EPOCHS[0];
  const E1 = EPOCHS[S - 1] > E0 ? EPOCHS[S - 1] : E0 + 1;
  const epochX = (e) => CURVE_BOX.left + ((e - E0) / (E1 - E0)) * (CURVE_BOX.right - CURVE_BOX.left);
  let curvesImage = null;

  function drawCurvesOnce() {
    curvesImage = document.createElement("canvas");
    curvesImage.width = curvesCanvas.width;
    curvesImage.height = curvesCanvas.height;
    const ctx = curvesImage.getContext("2d");
    const dpr = curvesCanvas.width / CUR.w;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const { w, h } = CUR;
    const { left, right, top, bottom } = CURVE_BOX;
    const e0 = E0;
    const e1 = E1;
    const xOf = epochX;
    let lmax = 0;
    for (let i = 0; i < S; i++) lmax = Math.max(lmax, LOSS[i]);
    lmax = lmax > 0 ? lmax : 1;
    const curve = (values, top_, color, label, align, fmt) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (let i = 0; i < S; i++) {
        const y = bottom - (values[i] / top_) * (bottom - top);
        if (i === 0) ctx.moveTo(xOf(EPOCHS[i]), y);
        else ctx.lineTo(xOf(EPOCHS[i]), y);
      }
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.textAlign = align;
      const x = align === "left" ? right + 6 : left - 6;
      ctx.fillText(fmt(top_), x, top + 8);
      ctx.fillText("0", x, bottom);
      ctx.textAlign = "left";
      return label;
    };
    ctx.font = "12px DejaVu Sans, sans-serif";
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(left, top, right - left, bottom - top);
    curve(LOSS, lmax, COLORS.text, "loss", "right", (v) => v.toPrecision(2));
    curve(ACC, 1, COLORS.accuracy, "accuracy", "left", () => "1");
    // The legend sits under the plot, where no curve runs.
    const mid = 0.5 * (left + right);
    ctx.fillStyle = COLORS.text;
    ctx.fillRect(mid - 150, h - 10, 18, 2);
    ctx.fillText(`loss (${D.lossName}, left scale)`, mid - 126, h - 6);
    ctx.fillStyle = COLORS.accuracy;
    ctx.fillRect(mid + 40, h - 10, 18, 2);
    ctx.fillText("accuracy (right scale)", mid + 64, h - 6);
    ctx.fillStyle = COLORS.grid;
    ctx.textAlign = "center";
    ctx.fillText(`epoch ${e0}`, left, h - 6);
    ctx.fillText(`${e1}`, right, h - 6);
    ctx.textAlign = "left";
    curvesCanvas.dataset.left = left;
    curvesCanvas.dataset.right = right;
  }

  function drawCurves(f) {
    const { ctx, w, h } = CUR;
    if (curvesImage === null) drawCurvesOnce();
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(curvesImage, 0, 0, w, h);
    const x = epochX(f.epoch);
    ctx.strokeStyle = COLORS.boundary;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, CURVE_BOX.top);
    ctx.lineTo(x, CURVE_BOX.bottom);
    ctx.stroke();
  }

  // -- state, controls -----------------------------------------------------------------------
  const state = { u: 0, layer: HIDDEN[HIDDEN.length - 1], playing: false, speed: 1 };
  const PLAY_SECONDS = 20; // u from 0 to 1 at 1x, as the video's training replay
  let frames = 0;
  let lastFrame = null;
  let dirty = true;

  function render() {
    const t0 = performance.now();
    // Turning a 3-D view changes only the drawing, not the network.
    const same = lastFrame && lastFrame.u === state.u && lastFrame.layer === state.layer;
    const f = same ? lastFrame : computeFrame(state.u, state.layer);
    drawInput(f);
    drawHidden(f);
    drawCurves(f);
    const snapshot = f.s.toFixed(2).padStart(6);
    $("readout").textContent =
      `epoch ${f.epoch.toFixed(2).padStart(6)}   snapshot ${snapshot} of ${S - 1}   ` +
      `loss ${f.loss.toFixed(5)}   accuracy ${f.accuracy.toFixed(4)}   u ${f.u.toFixed(4)}`;
    frames += 1;
    lastFrame = f;
    api.lastRenderMs = performance.now() - t0;
    dirty = false;
  }

  function setProgress(u) {
    state.u = Math.min(Math.max(Number(u), 0), 1);
    scrubber.value = String(state.u);
    dirty = true;
  }

  function setLayer(layer) {
    layerIndex(layer);
    if (!VIEWS[layer]) throw new Error(`${layer} is not a hidden layer`);
    // Keep the picture's moment: the same snapshot on the new layer's clock.
    const s = snapshotAt(state.u, state.layer);
    state.layer = layer;
    layerSelect.value = layer;
    setProgress(progressAt(s, layer));
    hint();
  }

  function hint() {
    const v = VIEWS[state.layer];
    $("layer-hint").textContent = v.kind === "space"
      ? (v.components
        ? `${v.width} units, 3 principal components ` +
          `(${(100 * v.explained).toFixed(0)}% of variance)`
        : "3 units, drag to turn")
      : `${v.width} units`;
    hiddenCanvas.style.cursor = v.kind === "space" ? "grab" : "default";
  }

  const scrubber = $("scrubber");
  const layerSelect = $("layer");
  const playButton = $("play");
  for (const name of HIDDEN) {
    const opt = document.createElement("option");
    const v = VIEWS[name];
    opt.value = name;
    opt.textContent = `${name} (${v.width} unit${v.width > 1 ? "s" : ""})`;
    layerSelect.appendChild(opt);
  }
  layerSelect.value = state.layer;
  layerSelect.addEventListener("change", () => setLayer(layerSelect.value));
  scrubber.addEventListener("input", () => {
    state.u = Number(scrubber.value);
    dirty = true;
  });
  $("speed").addEventListener("change", (e) => { state.speed = Number(e.target.value); });

  function setPlaying(on) {
    state.playing = on;
    if (on && state.u >= 1) setProgress(0);
    playButton.textContent = on ? "pause" : "play";
    lastTick = null;
  }
  playButton.addEventListener("click", () => setPlaying(!state.playing));
  document.addEventListener("keydown", (e) => {
    if (e.target && e.target.tagName === "SELECT") return;
    if (e.key === " ") {
      e.preventDefault();
      setPlaying(!state.playing);
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      const s = snapshotAt(state.u, state.layer);
      const next = e.key === "ArrowRight" ? Math.floor(s + 1e-9) + 1 : Math.ceil(s - 1e-9) - 1;
      setProgress(progressAt(Math.min(Math.max(next, 0), S - 1), state.layer));
    }
  });
  curvesCanvas.addEventListener("click", (e) => {
    const r = curvesCanvas.getBoundingClientRect();
    const left = Number(curvesCanvas.dataset.left);
    const right = Number(curvesCanvas.dataset.right);
    const t = Math.min(Math.max((e.clientX - r.left - left) / (right - left), 0), 1);
    const epoch = EPOCHS[0] + t * (EPOCHS[S - 1] - EPOCHS[0]);
    let i = 0;
    while (i < S - 2 && EPOCHS[i + 1] < epoch) i++;
    const span = EPOCHS[i + 1] - EPOCHS[i];
    const s = i + (span > 0 ? Math.min(Math.max((epoch - EPOCHS[i]) / span, 0), 1) : 0);
    setProgress(progressAt(s, state.layer));
  });
  let drag = null;
  hiddenCanvas.addEventListener("pointerdown", (e) => {
    if (VIEWS[state.layer].kind !== "space") return;
    drag = { x: e.clientX, y: e.clientY, az: camera.azimuth, el: camera.elevation };
    hiddenCanvas.setPointerCapture(e.pointerId);
    hiddenCanvas.style.cursor = "grabbing";
  });
  hiddenCanvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    camera.azimuth = drag.az - 0.5 * (e.clientX - drag.x);
    camera.elevation = Math.min(Math.max(drag.el + 0.5 * (e.clientY - drag.y), -89), 89);
    dirty = true;
  });
  const endDrag = () => {
    drag = null;
    hint();
  };
  hiddenCanvas.addEventListener("pointerup", endDrag);
  hiddenCanvas.addEventListener("pointercancel", endDrag);

  let lastTick = null;
  function tick(now) {
    if (state.playing) {
      if (lastTick !== null) {
        const u = state.u + ((now - lastTick) / 1000 / PLAY_SECONDS) * state.speed;
        setProgress(Math.min(u, 1));
        if (u >= 1) setPlaying(false);
      }
      lastTick = now;
    }
    if (dirty) render();
    requestAnimationFrame(tick);
  }

  // -- the page's header ---------------------------------------------------------------------
  $("title").innerHTML = "";
  $("title").append(document.createTextNode(`${D.name} `));
  const sub = document.createElement("span");
  const widths = [2, ...WIDTHS].join("-");
  sub.textContent = `network ${widths} (${D.activations[0]}), ${S} snapshots, ` +
    `epochs ${EPOCHS[0]}–${EPOCHS[S - 1]}, ${P} probe points`;
  $("title").append(sub);
  for (const text of D.notices) {
    const div = document.createElement("div");
    div.textContent = text;
    div.style.color = COLORS.warning;
    div.style.borderColor = COLORS.warning;
    $("notices").appendChild(div);
  }

  // -- what scripts and tests may call -------------------------------------------------------
  function checkLayer(layer) {
    if (layer !== "input" && !VIEWS[layer]) {
      throw new Error(`no hidden layer ${layer}; expected "input" or one of ${HIDDEN}`);
    }
  }
  const api = {
    layers: HIDDEN.slice(),
    labels: LABELS.slice(),
    probeIndex: D.probeIndex.slice(),
    snapshots: S,
    notices: D.notices.slice(),
    lastRenderMs: 0,
    /** Snapshot coordinate s shown at progress u on `layer`'s clock. */
    snapshotAt(u, layer) { checkLayer(layer); return snapshotAt(u, layer); },
    /** Progress at which `layer`'s replay shows snapshot coordinate s. */
    progressAt(s, layer) { checkLayer(layer); return progressAt(s, layer); },
    /** Epoch shown at progress u on `layer`'s clock. */
    epochAt(u, layer) { checkLayer(layer); return lerpAt(EPOCHS, snapshotAt(u, layer)); },
    /** The flattened weights (kernel row-major, then bias, layer by layer) at progress u. */
    weightsAt(u, layer) { checkLayer(layer); return Array.from(weightsAt(snapshotAt(u, layer))); },
    /**
     * The probe points' image in `layer` at progress u, as the video's replay of that layer
     * computes it: an array of P rows of `units` numbers (layer units; "input": data units).
     */
    positions(u, layer) {
      checkLayer(layer);
      if (layer === "input") {
        return Array.from({ length: P }, (_, i) => [PROBE[2 * i], PROBE[2 * i + 1]]);
      }
      const k = VIEWS[layer].width;
      const h = forward(weightsAt(snapshotAt(u, layer)), PROBE, P, layerIndex(layer), false);
      return Array.from({ length: P }, (_, i) => Array.from(h.subarray(i * k, (i + 1) * k)));
    },
    /**
     * The decision surface drawn in a 3-unit `layer` at progress u (30 x 30 rows of 3 layer
     * units), or null where there is none, as geomcore.anatomy.decision_surface(samples=30).
     */
    surface(u, layer) {
      checkLayer(layer);
      if (layer === "input" || !hasSurface(layer)) return null;
      const out = decisionSurface(weightsAt(snapshotAt(u, layer)));
      return out && Array.from({ length: out.length / 3 },
        (_, i) => [out[3 * i], out[3 * i + 1], out[3 * i + 2]]);
    },
    /** Show progress u in `layer` now (drawn synchronously). */
    show(u, layer) {
      checkLayer(layer);
      if (layer !== "input" && layer !== state.layer) setLayer(layer);
      setProgress(u);
      render();
    },
    /** Page (CSS pixel) positions of the probe points as last drawn: "input" or "hidden". */
    screenPositions(panel) {
      const canvas = panel === "input" ? inputCanvas : hiddenCanvas;
      const pts = drawn[panel === "input" ? "input" : "hidden"];
      const r = canvas.getBoundingClientRect();
      return Array.from({ length: P }, (_, i) => [r.left + pts[2 * i], r.top + pts[2 * i + 1]]);
    },
    /** Pulled-back decision boundary segments (data units) as last drawn: rows x1 y1 x2 y2. */
    boundary() { return Array.from(lastFrame.segs); },
    get state() { return { ...state, frames, snapshot: lastFrame ? lastFrame.s : 0 }; },
    setLayer,
    setProgress(u) { setProgress(u); },
    play() { setPlaying(true); },
    pause() { setPlaying(false); },
    camera,
  };
  window.geomcore = api;
  hint();
  render();
  requestAnimationFrame(tick);
})();
