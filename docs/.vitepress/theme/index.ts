// The default theme, with styles for long code lines and wide tables (custom.css).
import DefaultTheme from 'vitepress/theme';
import './custom.css';

export default DefaultTheme;
