"""`python -m bot new-flow NAME --area AREA [--no-identity] [--answer]`: the edits of the
README's "Extending Heard: adding a flow", made for a new intent, with placeholders where a
person has to write (the customer's words, the wording, the handler's effect).

A request (the default) gets: its training examples (data/nlu/NAME.yml), its intent, button
and responses (domain.yml), a handler stub in actions/AREA.py (a new area module when AREA
is new), its REQUESTS entry (actions/requests.py), its place in the requests rule
(data/rules.yml), an action test (tests/test_flow_NAME.py), an end-to-end story
(tests/test_stories.yml) and held-out test lines (tests/data/nlu_test.yml). An answer
(`--answer`: a fixed reply, no identity, no handler) gets an info.ANSWERS entry and the
answers rule instead.

Every text to write contains PLACEHOLDER; `placeholders(root)` finds what is left, for
`make check`. The edits are decided by pure functions (file text in, file text out) at
fixed anchors in each file, so comments and formatting survive; nothing is written unless
all of them succeed, and a flow that exists already is refused.

The modules, each importing only those above it:
- placeholders: the PLACEHOLDER mark and where `make check` looks for it;
- flow: the flow to scaffold, the project's texts, the files a scaffold reads;
- flow_check: the project's names read from its texts, and the refusals (check_flow);
- text_edits: line-level edits of a text (find a line, the end of its block, insert);
- domain_edits, data_edits, code_edits: the edits of domain.yml, of the data (training
  examples, test lines, rules, stories) and of the code (handler, tables, the flow's test);
- scaffold: every edit of a flow, and what the developer writes next;
- command: `run`, reading the project and writing the files all or none.
"""
