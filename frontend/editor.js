// The playground's editor: CodeMirror 6 with what a code box needs and nothing that takes keys
// away from typing (no completion pop-up, whose Enter would eat a newline). Bundled as one
// file that sets window.LivecodeEditor; playground.js is the only caller.
import {EditorState, Compartment} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
        drawSelection, highlightSpecialChars} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching,
        StreamLanguage, indentUnit} from "@codemirror/language";
import {closeBrackets, closeBracketsKeymap} from "@codemirror/autocomplete";
import {python} from "@codemirror/lang-python";
import {javascript} from "@codemirror/lang-javascript";
import {cpp} from "@codemirror/lang-cpp";
import {shell} from "@codemirror/legacy-modes/mode/shell";
import {lua} from "@codemirror/legacy-modes/mode/lua";

const LANGUAGES = {
  python: () => python(),
  javascript: () => javascript(),
  typescript: () => javascript({typescript: true}),
  c: () => cpp(),
  cpp: () => cpp(),
  bash: () => StreamLanguage.define(shell),
  lua: () => StreamLanguage.define(lua),
};

function languageSupport(name) {
  const make = LANGUAGES[name];
  return make ? make() : [];
}

function create({parent, doc = "", language = "python", onChange = () => {}, onRun = () => {}}) {
  const mode = new Compartment();
  let quiet = false;  // text put in by setText (a loaded session) is not an edit to autosave
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(),
        drawSelection(), indentOnInput(), bracketMatching(), closeBrackets(),
        highlightActiveLine(), syntaxHighlighting(defaultHighlightStyle, {fallback: true}),
        indentUnit.of("    "),
        keymap.of([{key: "Mod-Enter", run: () => { onRun(); return true; }},
                   ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        mode.of(languageSupport(language)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !quiet) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText: (text) => {
      quiet = true;
      try { view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}}); }
      finally { quiet = false; }
    },
    setLanguage: (name) => view.dispatch({effects: mode.reconfigure(languageSupport(name))}),
    focus: () => view.focus(),
  };
}

window.LivecodeEditor = {create, languages: Object.keys(LANGUAGES)};
