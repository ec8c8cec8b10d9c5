import time, ibis
from tests.analytics.factory import build
from tests.analytics.test_funnel import company, query
from voronka.analytics.reports import funnel

def test_debug(store, analytics):
    world = build(store, company)
    t=time.perf_counter()
    r = analytics()
    print("sources %.2f" % (time.perf_counter()-t))
    for strict in (False, False, True):
        q = query(world, strict_order=strict)
        t=time.perf_counter()
        res = funnel.run(r, q)
        print(strict, "run %.2f" % (time.perf_counter()-t), r.seconds)
