#!/usr/bin/env python3
"""gen_selector_cases.py — builds tests/fixtures/selectors/cases.txt: random
documents and selectors, answered by a real Chromium's querySelectorAll.

Usage: gen_selector_cases.py [--seed N] [--docs N] [--per-doc N] [--chromium PATH] [-o FILE]

Needs Debian's chromium (apt-get install chromium); the C test that replays
the fixture (tests/c/test_select.c) does not.

Fixture format, one record per line, strings escaped with \\\\ \\n \\r \\t \\f \\0:
  D <html>                  a document (parsed as text/html)
  E <name> <name> ...       Chromium's elements in document order (localName, with a
                            "+" appended when the element has text children)
  Q <scope> <selector>      scope: -1 for document.querySelectorAll, else an
                            index into E for element.querySelectorAll
  R <index> ...             the answer as indices into E, or "R !" for SyntaxError
"""
import argparse
import html as htmlmod
import json
import os
import random
import subprocess
import sys
import tempfile

TAGS = ["div", "p", "span", "a", "ul", "li", "section", "b", "i", "em", "h1", "h2", "article", "label",
        "x-foo", "my-el", "Custom", "nav", "pre", "code", "bdi", "font-face"]
IDS = ["a", "b", "main", "A", "x1", "-x", "é", "a.b", "1x", "foo bar", "Main"]
CLASSES = ["x", "y", "X", "foo", "bar", "Foo", "a-b", "é", "a:b", "1c", "_u"]
WORDS = ["hello", "world", "", " ", "  \n ", "abc", "שלום", "مرحبا", "123", "Ünï", "x y"]
ATTRS = [("title", ["t", "T", "hello world", "a-b", "a", "", "Héllo", "foo bar baz"]),
         ("data-x", ["1", "a", "A", "ab", "a b", "", "x-y", "-"]),
         ("lang", ["en", "en-US", "EN", "fr", "de-CH", "", "en-us-x"]),
         ("dir", ["ltr", "rtl", "auto", "RTL", "bogus"]),
         ("type", ["a", "A", "text", "Text"]),
         ("align", ["left", "LEFT", "Center"]),
         ("rel", ["nofollow", "NoFollow next"]),
         ("name", ["n", "N"]),
         ("hreflang", ["en", "EN"]),
         ("contenteditable", ["", "true", "false", "plaintext-only", "bogus"]),
         ("href", ["", "#", "x"]),
         ("is", ["x-y"]),
         ("DATA-Up", ["v"])]
INPUT_TYPES = ["text", "checkbox", "radio", "hidden", "number", "range", "color", "email", "url", "search", "tel",
               "password", "submit", "image", "reset", "button", "file", "date", "CheckBox", "bogus", None]


class DocGen:
    def __init__(self, rnd):
        self.r = rnd

    def attrs(self, tag):
        r = self.r
        out = []
        used = set()
        n = r.choice([0, 0, 1, 1, 2, 3])
        if r.random() < 0.35:
            out.append('id="%s"' % r.choice(IDS))
            used.add("id")
        if r.random() < 0.45:
            out.append('class="%s"' % " ".join(r.sample(CLASSES, r.choice([1, 1, 2, 3]))))
            used.add("class")
        for _ in range(n):
            name, vals = r.choice(ATTRS)
            if name.lower() in used:
                continue
            used.add(name.lower())
            v = r.choice(vals)
            out.append(name if (v == "" and r.random() < 0.5) else '%s="%s"' % (name, htmlmod.escape(v)))
        return out

    def form_control(self, depth):
        r = self.r
        k = r.random()
        flags = [f for f in ["checked", "disabled", "required", "readonly"] if r.random() < 0.25]
        if r.random() < 0.3:
            flags.append('placeholder="%s"' % r.choice(["p", ""]))
        if r.random() < 0.3:
            flags.append('value="%s"' % r.choice(["", "v", "3", "x y", "\n"]))
        if r.random() < 0.4:
            flags.append('name="%s"' % r.choice(["r", "s", ""]))
        if r.random() < 0.1:
            flags.append('form="%s"' % r.choice(["f1", "nope"]))
        if k < 0.55:
            t = r.choice(INPUT_TYPES)
            ty = ' type="%s"' % t if t else ""
            return "<input%s %s>" % (ty, " ".join(flags))
        if k < 0.7:
            return "<textarea %s>%s</textarea>" % (" ".join(flags), r.choice(["", "", "t", "\n", "  "]))
        if k < 0.85:
            opts = []
            for _ in range(r.randint(0, 4)):
                of = [f for f in ["selected", "disabled"] if r.random() < 0.3]
                o = "<option %s>%s</option>" % (" ".join(of), r.choice(["o", ""]))
                if r.random() < 0.2:
                    o = "<optgroup %s>%s</optgroup>" % ("disabled" if r.random() < 0.5 else "", o)
                opts.append(o)
            sf = [f for f in ["multiple", "required", "disabled", 'size="3"', 'size="1"'] if r.random() < 0.2]
            return "<select %s>%s</select>" % (" ".join(sf), "".join(opts))
        if k < 0.93:
            return "<button %s %s>b</button>" % (r.choice(["", 'type="submit"', 'type="reset"', 'type="button"', 'type="x"']),
                                                 " ".join(f for f in flags if f == "disabled"))
        return r.choice(["<progress></progress>", '<progress value="1"></progress>', "<details open><summary>s</summary></details>",
                         "<details></details>", "<dialog open></dialog>", "<dialog></dialog>", "<output></output>"])

    def node(self, depth):
        r = self.r
        k = r.random()
        if k < 0.12:
            return htmlmod.escape(r.choice(WORDS))
        if k < 0.15:
            return "<!--c-->"
        if k < 0.27:
            return self.form_control(depth)
        if k < 0.30 and depth < 4:
            return ('<fieldset %s><legend>%s</legend>%s</fieldset>' %
                    ("disabled" if r.random() < 0.6 else "", self.children(depth + 1, 2), self.children(depth + 1, 3)))
        if k < 0.33 and depth < 4:
            # Gumbo 0.10.1 loses text that ends a <form>: close it with an element
            return '<form id="%s">%s<br></form>' % (r.choice(["f1", "f2"]), self.children(depth + 1, 4))
        if k < 0.36:
            return self.svg(depth)
        if k < 0.38:
            return "<math><mi>x</mi><mo>+</mo></math>"
        if k < 0.40:
            return "<template><p>t</p><span></span></template>"
        if k < 0.43:
            return "<br>" if r.random() < 0.5 else "<img alt=\"\">"
        tag = r.choice(TAGS)
        inner = self.children(depth + 1, 4) if depth < 5 else htmlmod.escape(r.choice(WORDS))
        if tag == "a" and "<a" in inner:
            inner = "t"
        if tag == "p" and any(t in inner for t in ["<p", "<div", "<ul", "<section", "<h1", "<h2", "<article", "<nav",
                                                   "<pre", "<form", "<fieldset", "<details", "<dialog", "<math", "<table"]):
            tag = "div"
        if tag in ("h1", "h2") and ("<h1" in inner or "<h2" in inner):
            tag = "div"
        if tag == "label" and "<label" in inner:
            tag = "span"
        if tag == "li":
            tag = "ul" if r.random() < 0.5 else "li"
            if tag == "li":
                inner = htmlmod.escape(r.choice(WORDS))
        return "<%s %s>%s</%s>" % (tag, " ".join(self.attrs(tag)), inner, tag)

    def svg(self, depth):
        r = self.r
        kids = []
        for _ in range(r.randint(0, 3)):
            t = r.choice(["circle", "g", "rect", "clipPath", "linearGradient", "foreignObject", "a", "text", "desc"])
            a = r.choice(['', 'class="x"', 'id="s"', 'viewBox="0 0 1 1"', 'href="x"', 'xlink:href="y"', 'xml:lang="fr"',
                          'lang="de"', 'CLASS="y"', 'type="A"'])
            inner = "<span class=\"x\">f</span>" if t == "foreignObject" else ""
            kids.append("<%s %s>%s</%s>" % (t, a, inner, t))
        return '<svg viewBox="0 0 10 10" %s>%s</svg>' % (r.choice(["", 'class="x"', 'id="svg1"']), "".join(kids))

    def children(self, depth, maxn):
        r = self.r
        parts = []
        for _ in range(r.randint(0, maxn)):
            parts.append(self.node(depth))
            if r.random() < 0.3:
                parts.append(r.choice([" ", "\n", "txt"]))
        return "".join(parts)

    def doc(self):
        r = self.r
        head = ""
        if r.random() < 0.2:
            head = "<title>t</title>"
        body = self.children(0, 6)
        lang = ' lang="en"' if r.random() < 0.2 else ""
        body_attr = r.choice(["", "", ' class="x"', ' dir="rtl"'])
        doctype = "" if r.random() < 0.15 else "<!doctype html>"
        return "%s<html%s><head>%s</head><body%s>%s</body></html>" % (doctype, lang, head, body_attr, body)


class SelGen:
    """Random selectors from a grammar, biased towards names the document uses."""

    PSEUDO = ["root", "empty", "first-child", "last-child", "only-child", "first-of-type", "last-of-type",
              "only-of-type", "link", "any-link", "checked", "disabled", "enabled", "required", "optional",
              "read-only", "read-write", "placeholder-shown", "defined", "default", "indeterminate", "open", "scope",
              "hover", "focus", "visited", "target", "active", "FIRST-CHILD", "Empty", "-webkit-any-link",
              "focus-within", "popover-open", "user-valid", "autofill", "modal"]
    BAD_PSEUDO = ["unknown", "nth-child", "first", "left", "blank", "matches", "user-invalid", "hover()", "-moz-any-link",
                  "first-child()", "current(p)", "muted", "paused"]
    ANB = ["1", "2", "odd", "even", "2n", "2n+1", "2n + 1", "-n+3", "n", "-n", "+n", "3n-1", "3n- 1", "3n -1", "n+0",
           "0n+2", "-2n+5", " 2n+1 ", "+5", "-1", "ODD", "N", "2N+1", "n-1", "-n-1", "+n-2", "1n", "99999999999",
           "-n+99999999999", "0", "10n+10", "2n+ 1",
           # invalid
           "2n+", "n+-1", "2n 1", "+ n", "- n", "2.0n", "1.5", "n--1", "2n+1 of", "a", "", "n-a", "2n++1", "--n",
           "n-99999999999", "2n - -1", "1e1"]

    def __init__(self, rnd, info):
        self.r = rnd
        self.info = info  # names/ids/classes/attrs seen in the document

    def ident(self, pool, extra):
        r = self.r
        v = r.choice(pool + extra) if pool and r.random() < 0.8 else r.choice(extra)
        return self.escape_ident(v)

    def escape_ident(self, v):
        r = self.r
        out = []
        for i, ch in enumerate(v):
            start = i == 0 or (i == 1 and v[0] == "-")
            if ch.isalpha() or ch == "_" or ord(ch) > 127 or (ch == "-" and i == 0) or (not start and (ch.isdigit() or ch == "-")):
                if ch.isascii() and ch.isalpha() and r.random() < 0.04:
                    out.append("\\%x " % ord(ch))
                else:
                    out.append(ch)
            elif ch.isdigit():
                out.append("\\%x " % ord(ch) if r.random() < 0.7 else "\\3%s " % ch)
            else:
                out.append("\\" + ch)
        return "".join(out) or "x"

    def type_sel(self):
        r = self.r
        names = self.info["tags"]
        k = r.random()
        if k < 0.1:
            return "*"
        if k < 0.13:
            return r.choice(["*|*", "*|div", "|div", "|*", "*|p"])
        n = r.choice(names) if names and r.random() < 0.85 else r.choice(["div", "p", "span", "svg", "x-foo", "nope"])
        if r.random() < 0.2:
            n = n.upper() if r.random() < 0.5 else n.lower()
        return self.escape_ident(n)

    def attr_sel(self):
        r = self.r
        names = self.info["attrs"]
        name = r.choice(names) if names and r.random() < 0.85 else r.choice(["title", "href", "viewbox", "xlink:href", "lang"])
        if r.random() < 0.15:
            name = name.upper()
        ns = r.choice(["", "", "", "", "*|", "|"])
        name = self.escape_ident(name)
        op = r.choice(["", "=", "~=", "|=", "^=", "$=", "*=", "=", "="])
        if not op:
            return "[%s%s]" % (ns, name)
        vals = self.info["values"].get(name.lower(), []) or ["a"]
        v = r.choice(vals + ["", "a", "A", "en", "x"])
        if op != "=" and v and r.random() < 0.5:
            cut = r.randint(1, len(v))
            v = v[:cut] if op in ("^=", "|=") else v[-cut:] if op == "$=" else v[r.randint(0, len(v) - 1):][:cut]
        if r.random() < 0.2:
            v = v.swapcase()
        if r.random() < 0.6 or not v or not (v[0].isalpha() or v[0] == "_" or ord(v[0]) > 127):
            q = r.choice(['"', "'"])
            val = q + v.replace("\\", "\\\\").replace(q, "\\" + q).replace("\n", "\\a ") + q
        else:
            val = self.escape_ident(v)
        flag = r.choice(["", "", "", " i", " I", "i"])
        sp = r.choice(["", "", " "])
        return "[" + sp + ns + name + sp + op + sp + val + flag + sp + "]"

    def pseudo(self, depth):
        r = self.r
        k = r.random()
        if k < 0.4:
            return ":" + r.choice(self.PSEUDO)
        if k < 0.6:
            f = r.choice(["nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type", "NTH-CHILD"])
            anb = r.choice(self.ANB)
            if f.lower() in ("nth-child", "nth-last-child") and r.random() < 0.25 and depth < 3:
                anb += " of " + self.sel_list(depth + 1, complex_ok=True)
            return ":%s(%s)" % (f, anb)
        if k < 0.85 and depth < 3:
            f = r.choice(["not", "is", "where", "has", "is", "not", "-webkit-any"])
            if f == "has":
                inner = ", ".join(r.choice(["", "> ", "+ ", "~ ", "", ""]) + self.complex(depth + 1)
                                  for _ in range(r.randint(1, 2)))
            elif f == "-webkit-any":
                inner = ", ".join(self.compound(depth + 1) for _ in range(r.randint(1, 2)))
            else:
                inner = self.sel_list(depth + 1, complex_ok=True)
                if f in ("is", "where") and r.random() < 0.2:
                    inner += ", " + r.choice([":foo", "::before", "!", "", "> p", ":has(p)"])
            return ":%s(%s)" % (f, inner)
        if k < 0.92:
            return ":lang(%s)" % r.choice(["en", "EN", "fr", "de", "en-US", "e", "\"en\"", "", "en, fr", "\\*-US"])
        if k < 0.96:
            return ":dir(%s)" % r.choice(["ltr", "rtl", "auto", "LTR", "x"])
        return ":" + r.choice(self.BAD_PSEUDO)

    def compound(self, depth):
        r = self.r
        parts = []
        if r.random() < 0.55:
            parts.append(self.type_sel())
        for _ in range(r.choice([0, 1, 1, 1, 2, 2, 3]) if parts else r.choice([1, 1, 2])):
            k = r.random()
            if k < 0.22 and self.info["ids"]:
                parts.append("#" + self.ident(self.info["ids"], ["a", "b", "zz"]))
            elif k < 0.45:
                parts.append("." + self.ident(self.info["classes"], ["x", "y", "zz"]))
            elif k < 0.65:
                parts.append(self.attr_sel())
            else:
                parts.append(self.pseudo(depth))
        if r.random() < 0.03:
            parts.append(r.choice(["::before", ":before", "::after", "::marker", "::placeholder", "::-webkit-foo",
                                   "::foo", "::before::marker", "&"]))
        return "".join(parts) or "*"

    def complex(self, depth):
        r = self.r
        out = self.compound(depth)
        for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
            comb = r.choice([" ", " > ", ">", " + ", "~", " ~ ", "  ", "\n"])
            out += comb + self.compound(depth)
        return out

    def sel_list(self, depth=0, complex_ok=True):
        r = self.r
        return ", ".join(self.complex(depth) for _ in range(r.choice([1, 1, 1, 2])))

    def mutate(self, s):
        r = self.r
        k = r.random()
        if not s:
            return s
        i = r.randint(0, len(s))
        if k < 0.3:
            return s[:i] + r.choice([">", ",", "(", ")", "[", "]", ":", "::", "|", "*", "#", ".", "\\", "\"", " ", "/**/",
                                     "+", "~", "!", "{", "@x", "1"]) + s[i:]
        if k < 0.6:
            return s[:i]
        return s[:i] + s[i + 1:]

    def selector(self):
        r = self.r
        s = self.sel_list()
        if r.random() < 0.15:
            s = self.mutate(s)
        if r.random() < 0.1:
            s = r.choice([" ", "\t", "/* c */", "\n"]) + s + r.choice([" ", "", "/**/"])
        return s


def doc_info(doc_html):
    import re
    tags = sorted(set(t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", doc_html)))
    ids = sorted(set(re.findall(r'\bid="([^"]*)"', doc_html)))
    classes = sorted(set(c for v in re.findall(r'\bclass="([^"]*)"', doc_html, re.I) for c in v.split()))
    attrs = sorted(set(a for a in re.findall(r'\s([a-zA-Z][a-zA-Z:-]*)(?==|\s|>)', doc_html)))
    values = {}
    for a, v in re.findall(r'\s([a-zA-Z][a-zA-Z:-]*)="([^"]*)"', doc_html):
        values.setdefault(a.lower(), []).append(htmlmod.unescape(v))
    return {"tags": tags, "ids": [htmlmod.unescape(i) for i in ids], "classes": classes, "attrs": attrs,
            "values": values}


FIXED_DOCS = [
    "<!doctype html><div id=a class='x y'><p>hi</p><svg viewBox='0 0 1 1'><foreignObject><span></span>"
    "</foreignObject><clipPath/></svg><math><mi>x</mi></math></div><input type=checkbox checked>"
    "<a href=x>l</a><template><p></p></template>",
    "<div id=Main class='Foo bar'><p class=foo>q</p><p ID=main></p></div><span class=FOO></span>",  # quirks
    "<!doctype html><form id=f1><input type=radio name=r checked><input type=radio name=r checked>"
    "<input type=radio name=q><select><option>a<option>b</select><select><option selected>a<option selected>b</select>"
    "<select multiple><option>a<option selected>b</select><select size=3><option>a</select>"
    "<select><option disabled>a<option>b</select><button>go</button><input type=submit></form>"
    "<input type=radio name=r checked form=f1><input type=radio name=z>",
    "<!doctype html><fieldset disabled><legend><input id=l1></legend><input id=l2><legend><input id=l3></legend>"
    "<fieldset><button></button></fieldset></fieldset><optgroup disabled><option>z</optgroup>"
    "<div contenteditable><b></b><span contenteditable=false><i></i></span></div>"
    "<input placeholder=x><input placeholder=x value=' '><input type=email placeholder=x value=' '>"
    "<input type=number placeholder=x value=abc><textarea placeholder=p></textarea><textarea placeholder=p>\n\nx</textarea>",
    "<!doctype html><p lang=en><span lang=''><b></b></span><i></i></p><div dir=rtl><p></p><span dir=ltr></span>"
    "<span dir=bogus></span><bdi>abc</bdi></div><div dir=auto>\u05e9\u05dc\u05d5\u05dd</div><div dir=auto>abc</div>"
    "<div dir=rtl><p dir=auto>123</p><input type=tel><input dir=auto value='\u05e9'></div>"
    "<svg xml:lang=fr lang=de><g></g></svg>",
    "<!doctype html><ul>" + "".join("<li class=c%d>%d</li>" % (i % 3, i) for i in range(14)) + "</ul>"
    "<div><p></p><span></span><p></p><b></b><p></p><span></span></div>",
    "<!doctype html><div><p> </p><p><!--c--></p><p></p><p>x</p><x-foo></x-foo><div is=x-y></div>"
    "<font-face></font-face><my-el><p></p></my-el></div><details open><summary>s</summary></details>"
    "<dialog open></dialog><progress></progress><progress value=1></progress>",
]

FIXED_SELECTORS = [
    "", " ", ",", "a,", ",a", "a,,b", "a b", "a>b", "a > > b", "> a", "a >", "a || b", "a /deep/ b", "#1a", "#-a",
    ".1", ". x", "[a]div", "*.x", "*|*.x", "|*", "ns|p", "[ns|title]", "[*|title]", "[|title]", "[title=1]",
    "[title= ]", "[title~ =b]", "[title=b x]", "[title=b i]", ":is(a", ":not(a", "[a=b", "[a",
    ":nth-child(2", "a[b=\"c", "a[b=\"c\\", ":is(:before)", ":not(:before)", ":not(::before)", ":is(::before)",
    "::before::marker", "::after::marker", "::marker", "::part(x):hover", "::part(x)", "::part(x) p",
    "::slotted(p) a", "::before:hover", "::before.a", "::before > a", "::before, p", "::-webkit-foo", "::foo",
    ":nth-child(1 of :has(p))", ":nth-child(1 OF p)", ":nth-child(2n of.a)", ":nth-child(2n+1of p)",
    ":nth-of-type(1 of p)", ":has(> > p)", ":has(>)", ":has(p,)", ":has(:scope)", ":has(&)", ":has(::before)",
    ":has(:has(p))", ":is(:has(p))", ":has(:is(:has(p)))", ":not(:is(:has(p)))", ":has(:not(:has(p)))", ":is()",
    ":where()", ":not()", ":has()", ":where(!)", ":is(a, :foo)", ":-webkit-any()", ":-webkit-any(a b)",
    ":-webkit-any(a, p)", "&", "& p", "&&", "&p", "p&", ".x&", ":scope", ":scope > *", ":root", "html:root",
    ":host", ":host(p)", ":host a", ":state(x)", ":dir(x)", ":lang(en)", ":lang(\"en\")", ":lang(en, fr)",
    ":lang(*-US)", ":lang(\\*)", "div/**/p", "p/**/.a", "div/**/ p", "#a/**/p", "\\70", "\\000070", "\\70 \\61",
    "p\\", "\\", "#\\31 a", ".\\31 c", "[title=\"a\\\nb\"]", "[title=\"a\nb\"]", "'p'", "p{}", "p;", "@p", "<!--p",
    "p-->", "url(x)", "p:nth-child(2n+1)", "*:not(p):not(div)", "p ~ p", "p + p", "li:nth-child(3n-1 of .c1)",
    "li:nth-last-child(-n+2)", "li:nth-of-type(even)", ":first-of-type:last-of-type", "div :only-child",
    ":empty", "p:empty", ":defined", ":not(:defined)", ":open", ":default", ":indeterminate", ":checked",
    ":disabled", ":enabled", ":required", ":optional", ":read-only", ":read-write", ":placeholder-shown",
    ":dir(rtl)", ":dir(ltr)", ":lang(fr)", ":lang(de)", ":link", "a:any-link", "svg a:link", "[viewbox]",
    "[viewBox]", "foreignobject", "FOREIGNOBJECT", "clippath", "SVG", "[xlink\\:href]", "[*|href]", "[href]",
    "[lang|=en]", "[LANG|=EN]", "#main", "#MAIN", ".foo", ".FOO", "[class~=foo]", "[id=main]", "[id=main i]",
]


def make_cases(seed, ndocs, per_doc):
    rnd = random.Random(seed)
    docs = list(FIXED_DOCS)
    dg = DocGen(rnd)
    while len(docs) < ndocs:
        docs.append(dg.doc())
    cases = []
    for di, d in enumerate(docs):
        sg = SelGen(rnd, doc_info(d))
        sels = list(FIXED_SELECTORS) if di < len(FIXED_DOCS) else []
        while len(sels) < (len(FIXED_SELECTORS) if di < len(FIXED_DOCS) else 0) + per_doc:
            sels.append(sg.selector())
        qs = []
        for s in sels:
            scope = -1
            if rnd.random() < 0.2:
                scope = -2  # resolved in the browser: a random element index
            qs.append([scope, s, rnd.random()])
        cases.append({"doc": d, "queries": qs})
    return cases


PAGE = """<!doctype html><html><body><pre id=out></pre><script>
const cases = %s;
const out = [];
for (const c of cases) {
  const doc = new DOMParser().parseFromString(c.doc, 'text/html');
  const all = Array.from(doc.querySelectorAll('*'));
  const res = [];
  for (const [scope0, sel, pick] of c.queries) {
    let scope = scope0;
    if (scope === -2) scope = Math.floor(pick * all.length);
    const root = scope < 0 ? doc : all[scope];
    let r;
    try { r = Array.from(root.querySelectorAll(sel)).map(e => all.indexOf(e)); } catch (e) { r = null; }
    res.push([scope, sel, r]);
  }
  // "+" marks elements with text children, so the replay can tell when the trees differ in text
  const hasText = e => Array.from(e.childNodes).some(n => n.nodeType === 3 && n.data.length);
  out.push({doc: c.doc, tags: all.map(e => e.localName + (hasText(e) ? '+' : '')), res});
}
document.getElementById('out').textContent = JSON.stringify(out);
</script></body></html>"""


def run_chromium(chromium, cases):
    d = tempfile.mkdtemp()
    page = os.path.join(d, "cases.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(PAGE % json.dumps(cases).replace("</", "<\\/"))
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--user-data-dir=" + d, "--dump-dom", "file://" + page]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    i = out.index('<pre id="out">') + len('<pre id="out">')
    j = out.index("</pre>", i)
    return json.loads(htmlmod.unescape(out[i:j]))


def esc(s):
    return (s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
            .replace("\f", "\\f").replace("\0", "\\0"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--docs", type=int, default=60)
    ap.add_argument("--per-doc", type=int, default=60)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("-o", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "selectors", "cases.txt"))
    a = ap.parse_args()
    results = run_chromium(a.chromium, make_cases(a.seed, a.docs, a.per_doc))
    version = subprocess.run([a.chromium, "--version"], capture_output=True, text=True).stdout.strip()
    os.makedirs(os.path.dirname(a.o), exist_ok=True)
    nq = 0
    with open(a.o, "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by tests/tools/gen_selector_cases.py --seed %d --docs %d --per-doc %d\n"
                % (a.seed, a.docs, a.per_doc))
        f.write("# answers from %s\n" % version)
        for d in results:
            f.write("D " + esc(d["doc"]) + "\n")
            f.write("E " + " ".join(d["tags"]) + "\n")
            for scope, sel, r in d["res"]:
                f.write("Q %d %s\n" % (scope, esc(sel)))
                f.write("R !\n" if r is None else ("R " + " ".join(map(str, r))).rstrip() + "\n")
                nq += 1
    print("%d documents, %d queries -> %s" % (len(results), nq, a.o))


if __name__ == "__main__":
    sys.exit(main())
