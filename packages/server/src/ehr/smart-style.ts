// The EHR's look as a SMART style document (SMART App Launch 2.2 §Styling: `smart_style_url`): the colours, sizes
// and fonts of ui/style.css, so that a launched app can match the EHR around it.
export const SMART_STYLE_PATH = '/ehr/smart-style.json';

export const SMART_STYLE = Object.freeze({
  color_background: '#f6f7f9',
  color_error: '#aa1111',
  color_highlight: '#b4441e',
  color_modal_backdrop: 'rgba(29, 39, 51, 0.6)',
  color_success: '#2e7d32',
  color_text: '#1d2733',
  dim_border_radius: '0.25rem',
  dim_font_size: '1rem',
  dim_spacing_size: '1rem',
  font_family_body: 'system-ui, sans-serif',
  font_family_heading: 'system-ui, sans-serif',
});
