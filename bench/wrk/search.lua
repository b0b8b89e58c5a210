-- GET /api/v1/search/listings over a fixed query mix: RENTBOOK_WRK_PATHS holds one path with
-- its query string a line (bench/http_wrk.py writes bench/_search_queries.py's mix);
-- request g sends path g % N. RENTBOOK_WRK_THREADS is wrk's -t.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup
done = common.done

local paths, next_number

function init(args)
   paths = common.lines(os.getenv("RENTBOOK_WRK_PATHS"))
   next_number = common.numbers()
end

function request()
   local g = next_number()
   return wrk.format("GET", paths[(g % #paths) + 1])
end
