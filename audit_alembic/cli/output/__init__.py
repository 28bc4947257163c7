"""Everything the commands write, and how values read there.

* :mod:`.text`: a value as text, safe on a terminal, or fit for JSON and
  CSV; times in UTC; an error on one line;
* :mod:`.table`: aligned tables, written as their rows come;
* :mod:`.rows`: the rows of a history table as a table, JSON or CSV;
* :mod:`.reports`: the reports of ``status`` and ``verify``;
* :mod:`.schema`: the reports of ``drift``, and ``status``'s schema line;
* :mod:`.html`: the page of ``report``, self-contained;
* :mod:`.page_style`: that page's style sheet and script;
* :mod:`.timeline`: that page's timeline of runs, as SVG.
"""
