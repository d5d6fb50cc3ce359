#!/usr/bin/env python3
"""A synthetic Apple Health export ("Export All Health Data") of a given size.

    python3 bench/gen_health.py OUT SIZE_GB [--seed 1]

Writes OUT/apple_health_export/ as the Health app's export.zip holds it: export.xml of
about SIZE_GB x 10^9 bytes, export_cda.xml, and the workouts' GPX routes under
workout-routes/; prints what it holds as JSON: the top-level elements ferry's reader
should hand on as items (`records` counts the samples a Correlation repeats once).

The document is written as the Health app writes it: the XML declaration, the DOCTYPE
with its internal DTD (HealthKit Export Version 13), <HealthData locale>, <ExportDate>,
<Me>, then the Records grouped by type (quantities with MetadataEntry children, sleep
categories, heart rate variability with its InstantaneousBeatsPerMinute list, blood
pressure samples that a Correlation repeats), Workouts (WorkoutEvent, WorkoutStatistics
as iOS 15+ gives totals, WorkoutRoute with MetadataEntry and FileReference), and one
ActivitySummary per day. Standard library only; written as a stream, memory stays small.
"""

import argparse
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth         CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex       CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType           CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutEvent (MetadataEntry*)>
<!ATTLIST WorkoutEvent
  type         CDATA #REQUIRED
  date         CDATA #REQUIRED
  duration     CDATA #IMPLIED
  durationUnit CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type      CDATA #REQUIRED
  startDate CDATA #REQUIRED
  endDate   CDATA #REQUIRED
  average   CDATA #IMPLIED
  minimum   CDATA #IMPLIED
  maximum   CDATA #IMPLIED
  sum       CDATA #IMPLIED
  unit      CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
]>
<HealthData locale="en_GB">
 <ExportDate value="2025-01-01 12:00:00 +0000"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1988-03-14" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
"""

WATCH = ("Anna’s Apple Watch", "10.2",
         "&lt;&lt;HKDevice: 0x2812a4b40&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.2&gt;")
PHONE = ("Anna’s iPhone", "17.2",
         "&lt;&lt;HKDevice: 0x2812a4c80&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone14,5, software:17.2&gt;")
SCALE = ("Withings &amp; Co", "6.3", None)

# (type, unit, share of the records, source, value maker, metadata)
Q = "HKQuantityTypeIdentifier"
TYPES = [
    (Q + "HeartRate", "count/min", 40, WATCH, lambda r: str(r.randint(48, 170)), 'HKMetadataKeyHeartRateMotionContext'),
    (Q + "StepCount", "count", 14, PHONE, lambda r: str(r.randint(5, 1800)), None),
    (Q + "DistanceWalkingRunning", "km", 12, PHONE, lambda r: f"{r.random() * 1.2:.5f}", None),
    (Q + "ActiveEnergyBurned", "kcal", 12, WATCH, lambda r: f"{r.random() * 30:.3f}", None),
    (Q + "BasalEnergyBurned", "kcal", 8, WATCH, lambda r: f"{r.random() * 5 + 1:.3f}", None),
    (Q + "AppleExerciseTime", "min", 3, WATCH, lambda r: str(r.randint(1, 5)), None),
    (Q + "OxygenSaturation", "%", 2, WATCH, lambda r: f"0.{r.randint(92, 99)}", None),
    (Q + "RespiratoryRate", "count/min", 2, WATCH, lambda r: f"{r.uniform(12, 20):.1f}", None),
    (Q + "BodyMass", "kg", 1, SCALE, lambda r: f"{r.uniform(60, 64):.2f}", 'HKWasUserEntered'),
    ("HKCategoryTypeIdentifierSleepAnalysis", None, 3, WATCH,
     lambda r: r.choice(["HKCategoryValueSleepAnalysisAsleepCore", "HKCategoryValueSleepAnalysisAsleepDeep",
                         "HKCategoryValueSleepAnalysisAsleepREM", "HKCategoryValueSleepAnalysisAwake",
                         "HKCategoryValueSleepAnalysisInBed"]), None),
    ("HKCategoryTypeIdentifierAppleStandHour", None, 2, WATCH, lambda r: "HKCategoryValueAppleStandHourStood", None),
    (Q + "HeartRateVariabilitySDNN", "ms", 1, WATCH, lambda r: f"{r.uniform(20, 90):.4f}", "beats"),
]
WORKOUTS = ["HKWorkoutActivityTypeRunning", "HKWorkoutActivityTypeWalking", "HKWorkoutActivityTypeCycling",
            "HKWorkoutActivityTypeSwimming", "HKWorkoutActivityTypeTraditionalStrengthTraining"]
START = datetime(2017, 1, 1, tzinfo=timezone(timedelta(hours=1)))


def when(t):
    return t.strftime("%Y-%m-%d %H:%M:%S %z")


def attrs(src, typ, unit, value, start, end):
    name, version, device = src
    dev = f' device="{device}"' if device else ""
    u = f' unit="{unit}"' if unit else ""
    return (f'type="{typ}" sourceName="{name}" sourceVersion="{version}"{dev}{u} '
            f'creationDate="{when(end + timedelta(seconds=5))}" startDate="{when(start)}" endDate="{when(end)}" value="{value}"')


def write(root, name, text):
    with open(os.path.join(root, name), "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("size_gb", type=float)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    target = int(a.size_gb * 1e9)
    root = os.path.join(a.out, "apple_health_export")
    os.makedirs(os.path.join(root, "workout-routes"), exist_ok=True)
    raw = open(os.path.join(root, "export.xml"), "wb")
    r = random.Random(a.seed)
    counts = {"records": 0, "correlations": 0, "workouts": 0, "routes": 0, "summaries": 0, "profile": 1, "bytes": 0}
    buf = []
    size = 0

    def put(s):
        nonlocal size
        buf.append(s)
        size += len(s)
        if len(buf) >= 4096:
            flush()

    def flush():
        data = "".join(buf).encode()
        raw.write(data)
        counts["bytes"] += len(data)
        buf.clear()

    put(DTD)
    # days covered, so that summaries and workouts grow with the records
    records_est = target // 330
    days = max(30, records_est // 2500)
    budget_records = target * 0.93  # the rest: workouts, summaries, correlations
    total_share = sum(t[2] for t in TYPES)
    for typ, unit, share, src, val, meta in TYPES:
        stop = budget_records * share / total_share
        written = 0
        t = START
        step = timedelta(seconds=max(1, int(days * 86400 * 330 / max(stop, 1))))
        while written < stop:
            end = t + timedelta(seconds=r.randint(0, 600))
            head = attrs(src, typ, unit, val(r), t, end)
            if meta == "beats":
                beats = "".join(f'    <InstantaneousBeatsPerMinute bpm="{r.randint(55, 75)}" time="{(t + timedelta(seconds=k)).strftime("%-I:%M:%S.%f")[:-4]} {"AM" if t.hour < 12 else "PM"}"/>\n'
                                for k in range(r.randint(20, 60)))
                s = f' <Record {head}>\n  <HeartRateVariabilityMetadataList>\n{beats}  </HeartRateVariabilityMetadataList>\n </Record>\n'
            elif meta:
                s = f' <Record {head}>\n  <MetadataEntry key="{meta}" value="{r.randint(0, 2)}"/>\n </Record>\n'
            else:
                s = f' <Record {head}/>\n'
            put(s)
            written += len(s)
            counts["records"] += 1
            t += step
    # blood pressure: two top-level samples and the correlation that repeats them
    cuff = ("Omron Connect", "7.1", None)
    pressures = max(10, int(target * 0.01 / 1400))
    for k in range(pressures):
        t = START + timedelta(hours=13 * k)
        sys_ = attrs(cuff, Q + "BloodPressureSystolic", "mmHg", r.randint(105, 140), t, t)
        dia = attrs(cuff, Q + "BloodPressureDiastolic", "mmHg", r.randint(65, 90), t, t)
        put(f' <Record {sys_}/>\n <Record {dia}/>\n')
        put(f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Omron Connect" sourceVersion="7.1" '
            f'creationDate="{when(t)}" startDate="{when(t)}" endDate="{when(t)}">\n'
            f'  <MetadataEntry key="HKWasUserEntered" value="0"/>\n  <Record {sys_}/>\n  <Record {dia}/>\n </Correlation>\n')
        counts["records"] += 2
        counts["correlations"] += 1
    routes = []
    for d in range(days):
        t = START + timedelta(days=d, hours=18)
        if d % 2 == 0:
            kind = WORKOUTS[d % len(WORKOUTS)]
            minutes = r.uniform(20, 70)
            end = t + timedelta(minutes=minutes)
            km = minutes / r.uniform(5, 7)
            w = (f' <Workout workoutActivityType="{kind}" duration="{minutes:.10f}" durationUnit="min" sourceName="{WATCH[0]}" '
                 f'sourceVersion="10.2" device="{WATCH[2]}" creationDate="{when(end)}" startDate="{when(t)}" endDate="{when(end)}">\n'
                 f'  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
                 f'  <MetadataEntry key="HKAverageMETs" value="{r.uniform(5, 11):.5f} kcal/hr·kg"/>\n'
                 f'  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="{when(t)}" duration="{minutes / 2:.5f}" durationUnit="min"/>\n'
                 f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{when(t + timedelta(minutes=10))}"/>\n'
                 f'  <WorkoutEvent type="HKWorkoutEventTypeResume" date="{when(t + timedelta(minutes=11))}"/>\n'
                 f'  <WorkoutStatistics type="{Q}ActiveEnergyBurned" startDate="{when(t)}" endDate="{when(end)}" sum="{minutes * 9:.4f}" unit="kcal"/>\n'
                 f'  <WorkoutStatistics type="{Q}DistanceWalkingRunning" startDate="{when(t)}" endDate="{when(end)}" sum="{km:.4f}" unit="km"/>\n'
                 f'  <WorkoutStatistics type="{Q}HeartRate" startDate="{when(t)}" endDate="{when(end)}" average="{r.randint(120, 160)}" minimum="90" maximum="182" unit="count/min"/>\n')
            if kind != "HKWorkoutActivityTypeTraditionalStrengthTraining":
                route = f"route_{t.strftime('%Y-%m-%d_%-I.%M%p').lower()}.gpx"
                routes.append((route, t, minutes))
                w += (f'  <WorkoutRoute sourceName="{WATCH[0]}" sourceVersion="10.2" creationDate="{when(end)}" startDate="{when(t)}" endDate="{when(end)}">\n'
                      f'   <MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>\n'
                      f'   <MetadataEntry key="HKMetadataKeySyncIdentifier" value="{r.getrandbits(64):016X}"/>\n'
                      f'   <FileReference path="/workout-routes/{route}"/>\n  </WorkoutRoute>\n')
                counts["routes"] += 1
            put(w + " </Workout>\n")
            counts["workouts"] += 1
    for d in range(days):
        day = (START + timedelta(days=d)).strftime("%Y-%m-%d")
        put(f' <ActivitySummary dateComponents="{day}" activeEnergyBurned="{r.uniform(100, 900):.3f}" activeEnergyBurnedGoal="500" '
            f'activeEnergyBurnedUnit="kcal" appleMoveTime="0" appleMoveTimeGoal="0" appleExerciseTime="{r.randint(0, 90)}" '
            f'appleExerciseTimeGoal="30" appleStandHours="{r.randint(4, 16)}" appleStandHoursGoal="12"/>\n')
        counts["summaries"] += 1
    put("</HealthData>\n")
    flush()
    raw.close()
    write(root, "export_cda.xml",
          '<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Health Data</title></ClinicalDocument>\n')
    for name, t, minutes in routes:
        pts = []
        lat, lon = 38.7 + r.random() / 100, -9.14 + r.random() / 100
        for k in range(int(minutes * 6)):
            lat += r.uniform(-1e-4, 1e-4)
            lon += r.uniform(-1e-4, 1e-4)
            pts.append(f'<trkpt lon="{lon:.6f}" lat="{lat:.6f}"><ele>{20 + k % 7:.2f}</ele>'
                       f'<time>{(t + timedelta(seconds=10 * k)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}</time></trkpt>')
        write(root, f"workout-routes/{name}",
              '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export" '
              'xmlns="http://www.topografix.com/GPX/1/1">\n<trk><name>Route</name><trkseg>\n'
              + "\n".join(pts) + "\n</trkseg></trk>\n</gpx>\n")
    counts["items"] = counts["records"] + counts["correlations"] + counts["workouts"] + counts["summaries"] + counts["profile"]
    json.dump(counts, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
