"""Reports and dashboards: is the desk keeping its promises?"""
