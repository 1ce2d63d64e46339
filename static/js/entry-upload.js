// The entry form's big files go straight to storage, in parts, before the form is sent
// (issue 19). Uppy (static/vendor/uppy) sends the parts: retried, paused while the network is
// away, and resumed after the tab is closed and reopened (GoldenRetriever keeps the file, the
// server lists the parts it holds). This script checks the file first against the category's
// rules (read from the form's data-upload-rules attribute, messages in the page's language), asks the
// app for the upload and each part's address (/uploads), shows the progress, and when the file
// is stored puts the upload's id into the hidden field upload_<field> and empties the file
// input, so the form's own POST carries the text fields only.
// Without this script (or a form without the hidden field) the file is posted as before.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload-rules]");
  if (!form || !window.Uppy) return;
  var data = JSON.parse(form.getAttribute("data-upload-rules"));
  var messages = data.messages;
  var csrf = (form.querySelector("input[name=csrf_token]") || {}).value || "";
  var lang = data.locale || document.documentElement.lang || "vi";
  var MB = 1000 * 1000;
  var button = form.querySelector("[type=submit]");
  var buttonText = button ? button.value || button.textContent : "";
  var sending = false;
  var fields = {};

  function say(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, name) {
      return values && values[name] !== undefined ? values[name] : all;
    });
  }

  function number(value, digits) {
    return new Intl.NumberFormat(lang, { maximumFractionDigits: digits || 0 }).format(value);
  }

  // Bytes as contest.templating.filesize writes them (decimal units, one decimal).
  function size(bytes) {
    var units = [["GB", 1e9], ["MB", 1e6], ["KB", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (bytes >= units[i][1]) return number(Math.round((bytes / units[i][1]) * 10) / 10, 1) + " " + units[i][0];
    }
    return number(bytes) + " B";
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var minutes = Math.floor(seconds / 60);
    return minutes + ":" + String(seconds % 60).padStart(2, "0");
  }

  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf, Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return whenOnline().then(function () {
      return fetch(data.api + path, init);
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error(json.error || response.statusText);
          error.source = { status: response.status };
          error.shown = !!json.error;
          throw error;
        }
        return json;
      });
    });
  }

  function whenOnline() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (resolve) { window.addEventListener("online", resolve, { once: true }); });
  }

  // --- What the file is, read from its first bytes (as contest.media.photo_files.sniff does).
  function sniff(file) {
    return file.slice(0, 16).arrayBuffer().then(function (buffer) {
      var b = new Uint8Array(buffer);
      var text = String.fromCharCode.apply(null, b);
      if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
      if (text.slice(0, 8) === "\x89PNG\r\n\x1a\n") return "png";
      if (text.slice(0, 4) === "RIFF" && text.slice(8, 12) === "WEBP") return "webp";
      if (text.slice(4, 8) === "ftyp") {
        var brand = text.slice(8, 12);
        if (/^(heic|heix|heim|heis|hevc|hevx|mif1|msf1)$/.test(brand)) return "heif";
        if (brand === "qt  ") return "mov";
        return "mp4";
      }
      return null;
    });
  }

  function allowedText(rules) {
    return rules.formats.map(function (f) { return f.toUpperCase(); }).join(", ");
  }

  function checkBytes(file, rules) {
    if (file.size === 0) return say(messages.empty_file);
    if (rules.minBytes && file.size < rules.minBytes) {
      return say(messages.too_small_bytes, { size: size(file.size), min: size(rules.minBytes) });
    }
    if (rules.maxBytes && file.size > rules.maxBytes) {
      return say(messages.too_large_bytes, { size: size(file.size), max: size(rules.maxBytes) });
    }
    return null;
  }

  // A photo: not a photo, then its format, then its pixels, then its bytes (the server's order).
  function checkPhoto(file, rules) {
    if (file.size === 0) return Promise.resolve(say(messages.empty_file));
    return sniff(file).then(function (found) {
      var allowed = allowedText(rules);
      if (!found || found === "mp4" || found === "mov") return say(messages.not_recognised, { allowed: allowed });
      if (rules.formats.length && rules.formats.indexOf(found) < 0) {
        return say(messages.unsupported_format, { found: found.toUpperCase(), allowed: allowed });
      }
      return decode(file).then(function (bitmap) {
        if (!bitmap) {
          // Chromium cannot show HEIF: the server reads it. Anything else undecodable is no photo.
          return found === "heif" ? checkBytes(file, rules) : say(messages.not_recognised, { allowed: allowed });
        }
        var long = Math.max(bitmap.width, bitmap.height);
        if (rules.minLongPx && long < rules.minLongPx) {
          return say(messages.too_small_pixels, {
            width: number(bitmap.width), height: number(bitmap.height), min: number(rules.minLongPx)
          });
        }
        return checkBytes(file, rules);
      });
    });
  }

  function decode(file) {
    if (!window.createImageBitmap) return Promise.resolve(null);
    return createImageBitmap(file).then(function (bitmap) {
      var shape = { width: bitmap.width, height: bitmap.height };
      if (bitmap.close) bitmap.close();
      return shape;
    }, function () { return null; });
  }

  function checkVideo(file, rules) {
    if (file.size === 0) return Promise.resolve(say(messages.empty_file));
    return sniff(file).then(function (found) {
      var allowed = allowedText(rules);
      if (found !== "mp4" && found !== "mov") return say(messages.not_a_video, { allowed: allowed });
      if (rules.formats.length && rules.formats.indexOf(found) < 0) {
        return say(messages.unsupported_format, { found: found.toUpperCase(), allowed: allowed });
      }
      return videoSeconds(file).then(function (seconds) {
        if (seconds && rules.maxDurationS && seconds > rules.maxDurationS + 0.5) {
          return say(messages.video_too_long, { duration: number(seconds), max: number(rules.maxDurationS) });
        }
        return checkBytes(file, rules);
      });
    });
  }

  // The video's length from its metadata; null when this browser cannot read it (the server will).
  function videoSeconds(file) {
    return new Promise(function (resolve) {
      var video = document.createElement("video");
      var url = URL.createObjectURL(file);
      var done = function (value) {
        URL.revokeObjectURL(url);
        video.removeAttribute("src");
        resolve(value);
      };
      var timer = setTimeout(function () { done(null); }, 10000);
      video.preload = "metadata";
      video.muted = true;
      video.addEventListener("loadedmetadata", function () {
        clearTimeout(timer);
        done(isFinite(video.duration) ? video.duration : null);
      });
      video.addEventListener("error", function () { clearTimeout(timer); done(null); });
      video.src = url;
    });
  }

  function checkSeries(files, rules) {
    var count = files.length;
    var series = rules.series || {};
    var countProblem = null;
    if (rules.minItems && count < rules.minItems) countProblem = count === 1 && series.few_one ? series.few_one : series.few;
    if (rules.maxItems && count > rules.maxItems) countProblem = series.many;
    if (countProblem) return Promise.resolve(countProblem.replace("{num}", number(count)));
    return files.reduce(function (previous, file, index) {
      return previous.then(function (problem) {
        if (problem) return problem;
        return checkPhoto(file, rules).then(function (reason) {
          return reason && say(messages.series_item, { number: number(index + 1), filename: file.name, reason: reason });
        });
      });
    }, Promise.resolve(null));
  }

  function check(files, rules) {
    if (rules.kind === "photo_series") return checkSeries(files, rules);
    if (rules.kind === "video") return checkVideo(files[0], rules);
    return checkPhoto(files[0], rules);
  }

  // --- The page: each file field of the form, its status line and progress bar.
  function chosenRules() {
    var chosen = form.querySelector('input[name="category"]:checked');
    var id = chosen ? chosen.value : data.category;
    return id ? { id: id, rules: data.categories[String(id)] } : null;
  }

  function visibleField() {
    var names = Object.keys(fields);
    for (var i = 0; i < names.length; i++) {
      var box = fields[names[i]].input.closest("[data-for-kind]");
      if (!box || !box.hidden) return fields[names[i]];
    }
    return null;
  }

  function setUp(input) {
    var name = input.name;
    // Without the hidden field this form takes the file in its own POST: checked here, sent there.
    var hidden = form.querySelector('input[name="upload_' + name + '"]');
    var panel = document.createElement("div");
    panel.className = "upload-status";
    panel.innerHTML = '<progress max="100" value="0" hidden></progress><p class="upload-line" aria-live="polite"></p>';
    input.insertAdjacentElement("afterend", panel);
    var field = {
      name: name, input: input, hidden: hidden, panel: panel,
      bar: panel.querySelector("progress"), line: panel.querySelector(".upload-line"),
      uppy: hidden ? makeUppy(name) : null, state: "empty", problem: null
    };
    fields[name] = field;
    if (field.uppy) wire(field);
    input.addEventListener("change", function () { choose(field); });
  }

  function show(field, text, isError) {
    field.line.textContent = text || "";
    field.line.classList.toggle("error", !!isError);
    field.line.setAttribute("role", isError ? "alert" : "status");
  }

  function choose(field) {
    var files = Array.prototype.slice.call(field.input.files || []);
    reset(field);
    if (!files.length) return;
    var chosen = chosenRules();
    if (!chosen || !chosen.rules) return;  // the server names the missing category
    field.state = "checking";
    show(field, messages.checking);
    check(files, chosen.rules).then(function (problem) {
      if (problem) {
        field.state = "refused";
        field.problem = problem;
        field.input.setCustomValidity(problem);
        show(field, problem, true);
        return;
      }
      if (field.uppy) start(field, files, chosen.id); else { field.state = "empty"; show(field, ""); }
    });
  }

  function reset(field) {
    if (field.uppy) {
      field.uppy.cancelAll();
      field.hidden.value = "";
    }
    field.state = "empty";
    field.problem = null;
    field.input.setCustomValidity("");
    field.bar.hidden = true;
    field.bar.value = 0;
    show(field, "");
  }

  function start(field, files, categoryId) {
    files.forEach(function (file) {
      field.uppy.addFile({
        name: file.name, type: file.type, data: file, source: "entry-form",
        meta: { field: field.name, category_id: Number(categoryId) }
      });
    });
    field.state = "sending";
    field.bar.hidden = false;
    field.uppy.upload();
  }

  // --- Uppy: one per file field, its parts asked from the app's /uploads routes.
  function makeUppy(name) {
    var uppy = new window.Uppy.Uppy({ id: "entry-upload-" + name, autoProceed: false, allowMultipleUploadBatches: true });
    // A 200 MB video must survive a closed tab: the browser keeps files up to 400 MiB
    // (GoldenRetriever's own bound is 10 MiB).
    uppy.use(window.Uppy.GoldenRetriever, {
      serviceWorker: false,
      indexedDB: { maxFileSize: 400 * 1024 * 1024, maxTotalSize: 1024 * 1024 * 1024 }
    });
    uppy.addPreProcessor(function (fileIDs) {
      return Promise.all(fileIDs.map(function (id) { return reserve(uppy, uppy.getFile(id)); }));
    });
    uppy.use(window.Uppy.AwsS3, {
      shouldUseMultipart: true,
      limit: 4,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      getChunkSize: function (blob) {
        var file = uppy.getFiles().filter(function (f) { return f.data === blob; })[0];
        return (file && file.meta.partSize) || 8 * 1024 * 1024;
      },
      createMultipartUpload: function (file) {
        return { key: file.meta.uploadKey, uploadId: file.meta.s3UploadId };
      },
      signPart: function (file, part) {
        return api("GET", "/" + file.meta.uploadRef + "/parts/" + part.partNumber).then(function (signed) {
          return { method: "PUT", url: signed.url, headers: signed.headers || {} };
        });
      },
      listParts: function (file) {
        return api("GET", "/" + file.meta.uploadRef + "/parts");
      },
      completeMultipartUpload: function (file, result) {
        var parts = result.parts.map(function (p) { return { PartNumber: p.PartNumber, ETag: p.ETag }; });
        return api("POST", "/" + file.meta.uploadRef + "/complete", { parts: parts }).then(function (done) {
          uppy.setFileMeta(file.id, { stored: true });
          return { location: String(done.id) };
        });
      },
      abortMultipartUpload: function (file) {
        if (!file.meta.uploadRef) return null;
        return api("DELETE", "/" + file.meta.uploadRef).catch(function () { return null; });
      }
    });
    return uppy;
  }

  // The app's upload for a file: asked once, kept in the file's meta (GoldenRetriever stores it).
  function reserve(uppy, file) {
    if (file.meta.uploadRef) return Promise.resolve();
    return api("POST", "", {
      category_id: file.meta.category_id, field: file.meta.field,
      filename: file.name, type: file.type || "application/octet-stream", size: file.size
    }).then(function (made) {
      uppy.setFileMeta(file.id, {
        uploadRef: made.id, uploadKey: made.key, s3UploadId: made.uploadId, partSize: made.partSize
      });
    });
  }

  function wire(field) {
    var uppy = field.uppy;
    var started = 0;
    uppy.on("upload", function () { started = Date.now(); });
    uppy.on("progress", function () { progress(field, started); });
    uppy.on("upload-error", function (file, error) {
      var reason = error && error.shown ? error.message : "";
      if (navigator.onLine === false) {
        show(field, messages.offline);
        window.addEventListener("online", function () { uppy.retryAll(); }, { once: true });
        return;
      }
      field.state = "failed";
      show(field, say(messages.failed, { reason: reason }).trim(), true);
      if (sending) stopSending();
    });
    uppy.on("complete", function (result) {
      if (result.failed && result.failed.length) return;
      var ids = uppy.getFiles().map(function (f) { return f.meta.uploadRef; });
      if (!ids.length || uppy.getFiles().some(function (f) { return !f.progress.uploadComplete; })) return;
      field.hidden.value = ids.join(",");
      field.state = "stored";
      field.bar.value = 100;
      show(field, messages.sent);
      if (sending) finishSending();
    });
    uppy.on("restored", function () {
      var files = uppy.getFiles();
      if (!files.length) return;
      field.state = "sending";
      field.bar.hidden = false;
      show(field, say(messages.resumed, { filename: files.map(function (f) { return f.name; }).join(", ") }));
      started = Date.now();
      // The restored files belong to an upload already begun: Uppy runs it again (listParts).
      var begun = Object.keys(uppy.getState().currentUploads || {});
      if (begun.length) begun.forEach(function (id) { uppy.restore(id); }); else uppy.upload();
    });
    window.addEventListener("offline", function () {
      if (field.state === "sending") show(field, messages.offline);
    });
  }

  function progress(field, started) {
    var state = field.uppy.getState();
    var total = 0, sent = 0;
    field.uppy.getFiles().forEach(function (f) {
      total += f.size || 0;
      sent += f.progress.bytesUploaded || 0;
    });
    if (!total) return;
    var percent = Math.floor((sent / total) * 100);
    var seconds = Math.max(0.001, (Date.now() - started) / 1000);
    var speed = sent / seconds;
    field.bar.value = percent;
    field.percent = percent;
    if (field.state === "sending" && navigator.onLine !== false) {
      show(field, say(messages.progress, {
        percent: number(percent) + " %", speed: size(speed), left: duration(speed ? (total - sent) / speed : 0)
      }));
    }
    if (sending) buttonSays(say(messages.sending, { percent: number(percent) + " %" }));
    return state;
  }

  // --- The form's button: shows the progress, cannot be pressed twice, sends when the file is stored.
  function buttonSays(text) {
    if (!button) return;
    if (button.tagName === "INPUT") button.value = text; else button.textContent = text;
  }

  function stopSending() {
    sending = false;
    if (button) button.disabled = false;
    buttonSays(buttonText);
  }

  function finishSending() {
    Object.keys(fields).forEach(function (name) {
      var field = fields[name];
      if (field.state === "stored") field.input.value = "";  // the bytes are stored: not posted again
    });
    HTMLFormElement.prototype.submit.call(form);
  }

  // --- The date against the category's window, when the button is pressed: the file goes on
  // travelling while the entrant fixes it (the server checks it again with the same words).
  var dateInput = form.querySelector('input[name="taken_on"]');
  var dateLine = null;

  function dateProblem(value, rules) {
    var said = rules.dateMessages || {};
    if (!value || !rules.today) return "";
    if (value > rules.today) return said.future || "";
    if (rules.worksFrom && value < rules.worksFrom) return said.early || "";
    if (rules.worksUntil && value > rules.worksUntil) return said.late || "";
    return "";
  }

  function checkDate() {
    var chosen = chosenRules();
    var problem = dateInput && chosen && chosen.rules ? dateProblem(dateInput.value, chosen.rules) : "";
    if (!dateInput) return true;
    dateInput.setCustomValidity(problem);
    if (!dateLine && problem) {
      dateLine = document.createElement("p");
      dateLine.className = "error";
      dateLine.id = "taken_on-window";
      dateLine.setAttribute("role", "alert");
      dateInput.insertAdjacentElement("afterend", dateLine);
    }
    if (dateLine) {
      dateLine.textContent = problem;
      dateLine.hidden = !problem;
    }
    var described = (dateInput.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (problem && described.indexOf("taken_on-window") < 0) described.push("taken_on-window");
    if (described.length) dateInput.setAttribute("aria-describedby", described.join(" "));
    if (problem) dateInput.setAttribute("aria-invalid", "true"); else dateInput.removeAttribute("aria-invalid");
    return !problem;
  }

  if (dateInput) {
    ["input", "change"].forEach(function (type) {
      dateInput.addEventListener(type, function () { if (dateLine) checkDate(); });
    });
  }

  form.addEventListener("submit", function (event) {
    if (sending) { event.preventDefault(); return; }
    if (!checkDate()) {
      event.preventDefault();
      dateInput.focus();
      return;
    }
    var field = visibleField();
    if (!field || field.state === "empty") {
      // Nothing to send first (no file yet, or one kept from an earlier try): the form posts
      // itself, once: a second press would cancel the first request and send another.
      if (form.checkValidity()) { sending = true; if (button) button.disabled = true; }
      return;
    }
    if (field.state === "refused") {
      event.preventDefault();
      show(field, field.problem, true);
      field.input.focus();
      return;
    }
    if (!form.checkValidity()) {
      event.preventDefault();
      form.reportValidity();
      return;
    }
    event.preventDefault();
    sending = true;
    if (button) button.disabled = true;
    if (field.state === "stored") { finishSending(); return; }
    if (field.state === "failed") { field.state = "sending"; field.uppy.retryAll(); }
    buttonSays(say(messages.sending, { percent: number(field.percent || 0) + " %" }));
  });

  form.querySelectorAll("input[type=file]").forEach(setUp);
  // Back to this page from the browser's history: the button works again.
  window.addEventListener("pageshow", function (event) { if (event.persisted) stopSending(); });
})();
