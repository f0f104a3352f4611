import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { html } from './html.ts';

describe('html template', () => {
  it('escapes interpolated text and attributes, not nested Html', () => {
    const name = `<script>alert("x")</script>&'`;
    assert.equal(html`<p title="${name}">${name}</p>`.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>');
    assert.equal(html`<ul>${['a<', 'b'].map((s) => html`<li>${s}</li>`)}</ul>`.value, '<ul><li>a&lt;</li><li>b</li></ul>');
    assert.equal(html`${null}${undefined}${false}${0}`.value, '0');
  });
});
