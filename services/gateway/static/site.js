// 页面增强：没有 JavaScript 页面也能用；有了它，多了进度条、当场预检、防重复点击、未保存提醒、验证码倒计时。
// 不写内联脚本（CSP），不从外部加载任何东西。
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // 出错时把焦点放到页首的错误汇总，读屏软件会先读出要修改的问题。
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // 防重复点击：提交后按钮变为“正在处理…”，直到页面跳转。
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sending) { event.preventDefault(); return; }
      form.dataset.sending = "1";
      const button = event.submitter;
      if (button) {
        // 被禁用的按钮不会随表单提交，所以把它的 name/value 放进隐藏字段。
        if (button.name) {
          const hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = button.name; hidden.value = button.value;
          form.append(hidden);
        }
        button.setAttribute("aria-busy", "true");
        button.dataset.label = button.textContent;
        button.textContent = "正在处理…";
      }
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    });
  });

  // 未保存提醒：改动过的申请表在离开或刷新前提示。
  document.querySelectorAll("form[data-warn-unsaved]").forEach((form) => {
    let dirty = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("change", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });

  // 获取验证码：倒计时期间不能再点；有 JavaScript 时不刷新页面。
  function countdown(button, seconds) {
    const label = "获取验证码";
    button.disabled = true;
    let left = seconds;
    const tick = () => {
      if (left <= 0) { button.disabled = false; button.textContent = label; return; }
      button.textContent = `${left}秒后重新获取`; left -= 1; setTimeout(tick, 1000);
    };
    tick();
  }
  // 图形验证码：服务器要求时（error.details.captcha）在“获取验证码”前显示，结构与无脚本时服务器渲染的相同。
  function showCaptcha(form, captcha, message) {
    let box = form.querySelector("[data-captcha]");
    if (!box) {
      box = document.createElement("div");
      box.className = "captcha"; box.dataset.captcha = "";
      box.innerHTML = '<input type="hidden" name="captcha_id"><img width="160" height="60" alt="">' +
        '<div class="field"><label for="f-captcha-answer">图形验证码</label>' +
        '<p class="hint" id="f-captcha-answer-hint"></p>' +
        '<input id="f-captcha-answer" name="captcha_answer" type="text" autocomplete="off" maxlength="8" ' +
        'autocapitalize="characters" spellcheck="false" aria-describedby="f-captcha-answer-hint"></div>' +
        '<button type="button" data-new-captcha>看不清，换一张</button>';
      form.querySelector(".code-row").before(box);
    }
    const wait = Math.round((captcha.wait_seconds || 300) / 60);
    box.querySelector('[name="captcha_id"]').value = captcha.captcha_id;
    const img = box.querySelector("img");
    img.src = captcha.image;
    img.alt = `图形验证码图片。不方便识别图片？等待${wait}分钟后可直接获取验证码`;
    box.querySelector(".hint").textContent = (message ? message + "。" : "") +
      `输入图片中的4个字符，不区分大小写。不方便识别图片？等待${wait}分钟后可直接获取验证码：图形验证码留空，再点“获取验证码”`;
    const answer = box.querySelector('[name="captcha_answer"]');
    answer.value = "";
    answer.focus();
  }
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-new-captcha]");
    if (!button) return;
    event.preventDefault();
    const form = button.form || button.closest("form");
    const phone = form.querySelector('[name="phone"]').value.trim();
    const r = await fetch("/api/v1/captchas", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ phone }) });
    const data = await r.json().catch(() => ({}));
    if (r.ok) showCaptcha(form, data, "");
    else ensureStatus(form).textContent = (data.error && data.error.message) || "网络异常，请稍后重试";
  });

  document.querySelectorAll("button[data-send-code]").forEach((button) => {
    if (button.dataset.cooldown) countdown(button, parseInt(button.dataset.cooldown, 10));
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      const form = button.form;
      const phone = form.querySelector('[name="phone"]').value.trim();
      const status = ensureStatus(form);
      const body = { phone, purpose: button.dataset.purpose };
      const captchaId = form.querySelector('[name="captcha_id"]');
      if (captchaId) {
        body.captcha_id = captchaId.value;
        body.captcha_answer = form.querySelector('[name="captcha_answer"]').value.trim();
      }
      try {
        const r = await fetch("/api/v1/sms-codes", { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify(body) });
        const data = await r.json().catch(() => ({}));
        if (!r.ok) {
          const error = data.error || {};
          status.textContent = error.message || "验证码发送失败，请稍后再试";
          if (error.details && error.details.captcha) { showCaptcha(form, error.details.captcha, error.message); return; }
          const wait = error.details && error.details.retry_after;
          if (wait) countdown(button, parseInt(wait, 10));
          return;
        }
        const box = form.querySelector("[data-captcha]");
        if (box) box.remove();  // 已通过，用过的图形验证码不再有用
        status.textContent = "验证码已发送，5分钟内有效";
        const code = form.querySelector('[name="code"]');
        if (code) code.focus();
        countdown(button, data.cooldown_seconds || 60);
      } catch (e) { status.textContent = "网络异常，请检查网络后重试"; }
    });
  });
  function ensureStatus(form) {
    let status = form.querySelector(".live-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "live-status banner"; status.setAttribute("role", "status");
      form.prepend(status);
    }
    return status;
  }

  // 上传材料：选择后先在浏览器里按服务器的规则预检，再带进度上传，当场显示检查结果。
  const MAX_BYTES = 1024 * 1024;
  function precheck(kind, file) {
    return new Promise((resolve) => {
      if (!/^image\/(jpeg|png)$/.test(file.type)) { resolve("请上传JPEG或PNG格式的图片"); return; }
      if (file.size > MAX_BYTES) {
        resolve(`图片为${(file.size / 1048576).toFixed(1)}MB，超过1MB的上限，请压缩或降低分辨率后重新上传`); return;
      }
      const img = new Image();
      img.onload = () => {
        const w = img.naturalWidth, h = img.naturalHeight;
        URL.revokeObjectURL(img.src);
        if (kind === "photo" && Math.abs(w - 413) > 2 && Math.abs(h / w - 626 / 413) > 0.02) {
          resolve(`两寸免冠照片宽高应为413×626像素，当前为${w}×${h}`); return;
        }
        resolve(null);
      };
      img.onerror = () => { URL.revokeObjectURL(img.src); resolve("图片无法打开，可能已损坏，请重新拍摄或选择"); };
      img.src = URL.createObjectURL(file);
    });
  }
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    const kind = form.dataset.upload;
    const box = form.closest(".material");
    const input = form.querySelector('input[type="file"]');
    const bar = form.querySelector("progress");
    const verdict = box.querySelector("[data-verdict]");
    const say = (text, ok) => {
      verdict.textContent = text;
      verdict.className = ok ? "verdict-ok" : "verdict-bad";
      verdict.setAttribute("role", "status");
    };
    const upload = async () => {
      const file = input.files[0];
      if (!file) { say("请选择图片", false); return; }
      const problem = await precheck(kind, file);
      if (problem) { say(problem, false); return; }
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", form.dataset.api);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Content-Type", file.type);
      bar.classList.remove("hidden"); bar.value = 0;
      say("正在上传…", true);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = () => {
        bar.classList.add("hidden");
        let data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* 非JSON：按失败处理 */ }
        if (xhr.status === 200) {
          say("已上传，检查通过", true);
          let img = box.querySelector("img.thumb");
          if (!img) { img = document.createElement("img"); img.className = "thumb"; verdict.before(img); }
          img.alt = "已上传的" + box.querySelector("h3").textContent.replace("*", "").trim();
          img.src = form.dataset.api + "?variant=thumbnail&v=" + Date.now();
        } else if (data.verdict && data.verdict.issues) {
          say(data.verdict.issues.map((i) => i.message).join("；") || "图片不符合要求，请重新上传", false);
        } else {
          say((data.error && data.error.message) || "上传失败，请稍后重试", false);
        }
      };
      xhr.onerror = () => { bar.classList.add("hidden"); say("网络异常，上传失败，请重试", false); };
      xhr.send(file);
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); upload(); });
    input.addEventListener("change", upload);
  });
})();
