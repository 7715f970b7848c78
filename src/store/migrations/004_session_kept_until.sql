-- A session whose run or client ended is parked: its workstation paused, kept for a resume until
-- this time, then stopped and removed by the server's sweep. NULL: not parked (running, or kept).
ALTER TABLE sessions ADD COLUMN kept_until timestamptz;
