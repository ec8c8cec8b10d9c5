import time, ibis
from tests.analytics.factory import build
from tests.analytics.test_funnel import company, query
from voronka.analytics.reports import funnel

def test_debug(store, analytics):
    world = build(store, company)
    r = analytics()
    for strict in (False, True):
        q = query(world, strict_order=strict)
        for n in (4, 12, 20):
            t=time.perf_counter()
            e = funnel.step_aggregates(funnel.funnel_levels(r.sources, q, list(range(1, n+1))))
            b = time.perf_counter()-t; t=time.perf_counter()
            sql = ibis.to_sql(e, dialect="duckdb")
            c = time.perf_counter()-t; t=time.perf_counter()
            r.sources.backend.raw_sql(sql).fetchall()
            print(strict, n, "build %.2f compile %.2f raw %.2f" % (b, c, time.perf_counter()-t), len(sql))
