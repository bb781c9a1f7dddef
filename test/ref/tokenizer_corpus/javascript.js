'use strict';
// Debounce, async/await, template literals, regex literals and optional chaining.
const debounce = (fn, ms = 250) => {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), ms);
  };
};

async function fetchJson(url, { retries = 3 } = {}) {
  for (let attempt = 1; attempt <= retries; attempt++) {
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${res.statusText}`);
      return await res.json();
    } catch (err) {
      console.warn(`attempt ${attempt}/${retries} failed:`, err?.message ?? err);
    }
  }
  return null;
}

const isEmail = (s) => /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i.test(s);
const users = [{ name: 'Ada', age: 36 }, { name: 'Linus', age: 28 }];
const byAge = users.toSorted((a, b) => a.age - b.age).map(({ name }) => name);
console.log(byAge, isEmail('a@b.io'), 0.1 + 0.2 === 0.3, 2 ** 53 - 1, 10n ** 20n);
module.exports = { debounce, fetchJson };
