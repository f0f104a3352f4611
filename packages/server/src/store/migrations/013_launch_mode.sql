-- How the simulated EHR opens an app from a chart (issue 5): in a window of its own, or embedded in the chart (an
-- iframe under the EHR's banner, so `need_patient_banner` is false).
ALTER TABLE clients ADD COLUMN launch_mode text NOT NULL DEFAULT 'window' CHECK (launch_mode IN ('window', 'embedded'));
