"""The regional tension index and its charts.

`index` computes the decaying, casualty-weighted index and its levels against
each region's own baseline; `charts` draws it with matplotlib; `chart_store`
keeps each drawn chart per data revision so it is drawn and uploaded once.
"""
